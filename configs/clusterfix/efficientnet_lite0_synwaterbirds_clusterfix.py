# ClusterFix (Capitani et al., WACV 2024) on SynWaterbirds: the ERM config plus
# one pseudo-label head per class, trained on the clusters of ImageNet
# features (8 per class) and up-weighting the samples of hard clusters; beta
# 0.01 (the paper's Waterbirds value). No group label is used for training.
# The pseudo-label file comes first:
#   python tools/analysis/make_pseudo_labels.py \
#       configs/efficientnet_lite/efficientnet_lite0_in1k.py \
#       checkpoints/efficientnet_lite0_in1k.pth \
#       --data-config configs/clusterfix/efficientnet_lite0_synwaterbirds_erm.py \
#       --out work_dirs/synwaterbirds_pseudo_labels.json
_base_ = ['./efficientnet_lite0_synwaterbirds_erm.py']

model = dict(
    type='ClusterFixClassifier',
    pseudo_labels={{_base_.pseudo_labels}},
    feat_channels=1280,
    beta=0.01,
)
train_dataloader = dict(dataset=dict(pipeline={{_base_.clusterfix_train_pipeline}}))
