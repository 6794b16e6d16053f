# ResNet-18 as trained on ImageNet-1k (MMPretrain's own weights, downloaded
# on first use): the 1000-class model itself, for inference, ImageNet
# validation, and the features of ClusterFix's Waterbirds pseudo-labels, e.g.
#   python tools/analysis/make_pseudo_labels.py configs/resnet/resnet18_in1k.py \
#       --data-config configs/clusterfix/resnet50_waterbirds_erm.py \
#       --out work_dirs/waterbirds_pseudo_labels.json
# (without a CHECKPOINT argument the backbone's Pretrained init is used).
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    'mmpretrain::_base_/default_runtime.py',
]
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
# tools/test.py replaces load_from with its CHECKPOINT argument.
load_from = pretrained

data_preprocessor = dict(
    num_classes=1000,
    # ImageNet statistics, RGB order, 0-255 scale.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
# MMPretrain's ImageNet evaluation: short side to 256, centre crop 224.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
# ImageNet's val set in MMPretrain's layout (data/imagenet/meta/val.txt and
# data/imagenet/val/).
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='ImageNet',
        data_root='data/imagenet',
        split='val',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='Accuracy', topk=(1, 5))
test_cfg = dict()
