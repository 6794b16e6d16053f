# The oracle reference on CelebA (Blond_Hair, bias Male): ERM with
# group-balanced sampling (every group equally likely in every batch), which
# USES the group labels that ClusterFix does without (Sagawa et al., ICLR
# 2020: "upweighting").
_base_ = ['./resnet18_celeba_erm.py']

train_dataloader = dict(
    sampler=dict(_delete_=True, type='BalancedSampler', key='group')
)
