# ClusterFix's schedule (Capitani et al., WACV 2024) for Waterbirds and
# CelebA: Adam lr 1e-4, weight decay 1e-2 (Adam's L2 term, as in its code),
# batch 256, 100 epochs with a cosine schedule, validated every epoch. Two
# checkpoints are kept, as the paper reports both: the best validation
# worst-group accuracy and the best unweighted group mean (rule='greater':
# MMEngine cannot infer it from these names).
_base_ = ['mmpretrain::_base_/default_runtime.py']

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-2))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=100)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# The learning rate is the paper's at 256 images per step (--auto-scale-lr).
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best=['group/worst_group', 'group/unweighted_group_mean'],
        rule='greater',
    ),
)
# The training process's random state before each iteration is a function of
# (seed, iteration), so --resume continues exactly.
custom_hooks = [dict(type='DeterministicRandomStateHook')]
randomness = dict(seed=0, deterministic=False)
