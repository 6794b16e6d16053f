# ClusterFix (Capitani et al., WACV 2024) on Waterbirds: the ERM config
# plus one pseudo-label head per class, trained on the clusters of ImageNet
# features (8 per class), up-weighting the samples of hard clusters;
# beta 0.01 (the paper's value for this set). No group label is used for
# training. The pseudo-label file comes first (ImageNet ResNet-18 features):
#   python tools/analysis/make_pseudo_labels.py configs/resnet/resnet18_in1k.py \
#       --data-config configs/clusterfix/resnet18_waterbirds_erm.py \
#       --out work_dirs/waterbirds_pseudo_labels.json
_base_ = ['./resnet18_waterbirds_erm.py']

model = dict(
    type='ClusterFixClassifier',
    pseudo_labels={{_base_.pseudo_labels}},
    feat_channels=512,
    beta=0.01,
)
train_dataloader = dict(dataset=dict(pipeline={{_base_.clusterfix_train_pipeline}}))
