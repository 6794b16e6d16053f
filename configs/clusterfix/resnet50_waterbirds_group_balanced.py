# The oracle reference on Waterbirds: ERM with group-balanced sampling
# (every group equally likely in every batch), which USES the group labels
# that ClusterFix does without (Sagawa et al., ICLR 2020: "upweighting").
_base_ = ['./resnet50_waterbirds_erm.py']

train_dataloader = dict(
    sampler=dict(_delete_=True, type='BalancedSampler', key='group')
)
