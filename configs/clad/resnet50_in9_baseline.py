# Baseline of CLAD (BMVC 2022) on ImageNet-9: ImageNet-pretrained ResNet-50,
# 9-way head, cross-entropy only. Paper: ORIGINAL 96.0, MIXED-RAND 73.4,
# BG-GAP 14.1.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/in9_bs64.py',
    '../_base_/schedules/in9_adam_60e.py',
    'mmpretrain::_base_/default_runtime.py',
]

# A path to a local file works too: --cfg-options
# model.backbone.init_cfg.checkpoint=/path/to/resnet50_in1k.pth
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet50_8xb32_in1k_20210831-ea4938fc.pth'
)

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')
    ),
    head=dict(num_classes=9, topk=(1,)),
)

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_best='bg_challenge/mixed_rand',
        rule='greater',
    ),
)
randomness = dict(seed=42, deterministic=False)
