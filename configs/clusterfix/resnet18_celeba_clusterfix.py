# ClusterFix (Capitani et al., WACV 2024) on CelebA (Blond_Hair, bias Male):
# the ERM config plus one pseudo-label head per class, trained on feature
# clusters (8 per class), up-weighting the samples of hard clusters; beta 0.5
# (the paper's CelebA value). No group label is used for training. The
# pseudo-label file comes first; the paper clusters a self-supervised
# ResNet-18's features, which MMPretrain's zoo lacks: any config and
# checkpoint can be given, e.g. ImageNet ResNet-18 features:
#   python tools/analysis/make_pseudo_labels.py configs/resnet/resnet18_in1k.py \
#       --data-config configs/clusterfix/resnet18_celeba_erm.py \
#       --out work_dirs/celeba_pseudo_labels.json
_base_ = ['./resnet18_celeba_erm.py']

model = dict(
    type='ClusterFixClassifier',
    pseudo_labels={{_base_.pseudo_labels}},
    feat_channels=512,
    beta=0.5,
)
train_dataloader = dict(dataset=dict(pipeline={{_base_.clusterfix_train_pipeline}}))
