# Baseline on the SynBG texture variant: ResNet-18 from scratch, 64 px,
# cross-entropy only, CPU-friendly (the S-CLAD demo's reference point).
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/synbg_texture_bs64.py',
    '../_base_/schedules/synbg_adam_8e.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    # As for SynBG: from scratch, zero-initialised residual branches learn
    # the shapes far more slowly.
    backbone=dict(zero_init_residual=False),
    head=dict(num_classes=9, topk=(1,)),
)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
)
randomness = dict(seed=0, deterministic=False)
