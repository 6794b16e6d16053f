# Short CPU schedule of the SynWaterbirds demo from an ImageNet-pretrained
# trunk: ClusterFix's optimiser (Adam lr 1e-4, weight decay 1e-2) with its
# cosine schedule, 10 epochs instead of 100, validated every epoch. Two
# checkpoints are kept, as the ClusterFix paper reports both: the best
# validation worst-group accuracy and the best unweighted group mean
# (rule='greater': MMEngine cannot infer it from these names).
_base_ = ['mmpretrain::_base_/default_runtime.py']

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-2))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=10)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best=['group/worst_group', 'group/unweighted_group_mean'],
        rule='greater',
    ),
)
custom_hooks = [dict(type='DeterministicRandomStateHook')]
randomness = dict(seed=0, deterministic=False)
