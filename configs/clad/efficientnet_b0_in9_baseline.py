# Baseline of CLAD (BMVC 2022) on ImageNet-9 with an EfficientNet-B0 instead
# of the paper's ResNet-50: MMPretrain's ImageNet-1k weights (converted from
# the TensorFlow release), 9-way head, cross-entropy only; the paper's recipe
# otherwise (Adam lr 1e-3, x0.1 after epoch 20, 60 epochs, batch 64, 224 px,
# seed 42), as the EfficientNet-Lite0 configs. Smoke-tested only: not
# trained on IN-9 here.
_base_ = [
    'mmpretrain::_base_/models/efficientnet_b0.py',
    '../_base_/datasets/in9_bs64.py',
    '../_base_/schedules/in9_adam_60e.py',
    'mmpretrain::_base_/default_runtime.py',
]

# MMPretrain's efficientnet-b0_3rdparty_8xb32-aa_in1k (77.26 top-1; trained
# on ImageNet-1k alone with AutoAugment, unlike the noisy-student weights,
# which saw extra unlabelled images). A path to a local file works too:
# --cfg-options model.backbone.init_cfg.checkpoint=/path/to/efficientnet-b0.pth
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/efficientnet/'
    'efficientnet-b0_3rdparty_8xb32-aa_in1k_20220119-8d939117.pth'
)

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone'),
    ),
    head=dict(num_classes=9, topk=(1,)),
)
# The ImageNet statistics (RGB) of MMPretrain's recipe for these weights
# (configs/efficientnet/efficientnet-b0_8xb32_in1k.py; only the AdvProp
# weights take the 01norm recipe's 127.5 / 127.5).
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
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
