# The oracle reference on SynWaterbirds: ERM with group-balanced sampling
# (every group equally likely in every batch), which USES the group labels
# that ClusterFix does without (Sagawa et al., ICLR 2020: "upweighting").
_base_ = ['./efficientnet_lite0_synwaterbirds_erm.py']

train_dataloader = dict(
    sampler=dict(_delete_=True, type='BalancedSampler', key='group')
)
