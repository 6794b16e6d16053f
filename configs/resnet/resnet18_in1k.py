# ResNet-18 as trained on ImageNet-1k (MMPretrain's own weights, downloaded
# on first use): the feature extractor of ClusterFix's Waterbirds
# pseudo-labels, e.g.
#   python tools/analysis/make_pseudo_labels.py configs/resnet/resnet18_in1k.py \
#       --data-config configs/clusterfix/resnet50_waterbirds_erm.py \
#       --out work_dirs/waterbirds_pseudo_labels.json
# (without a CHECKPOINT argument the backbone's Pretrained init is used).
_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet18_8xb32_in1k_20210831-fbbb1da6.pth'
)
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')
    )
)
