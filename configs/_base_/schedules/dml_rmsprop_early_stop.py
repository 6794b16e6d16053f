# The paper's deep-metric-learning schedule (Kobs & Hotho, ICMV 2022, after
# Musgrave et al.'s "A Metric Learning Reality Check"): RMSprop lr 1e-6,
# momentum 0.9, weight decay 1e-4, batch 32; up to 1000 epochs, validated every
# epoch on the carved-out validation classes and stopped after 15 epochs
# without a better validation MAP@R; the best checkpoint is kept. Proxy losses'
# parameters (head.loss_module) get their own learning rate through
# paramwise_cfg custom_keys in the leaf configs (lr_mult = loss lr / 1e-6).
# It includes MMPretrain's default runtime, whose checkpoint hook it sets.
_base_ = ['mmpretrain::_base_/default_runtime.py']

optim_wrapper = dict(
    optimizer=dict(type='RMSprop', lr=1e-6, momentum=0.9, weight_decay=1e-4),
)
train_cfg = dict(by_epoch=True, max_epochs=1000, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# The metric that selects and stops: clean MAP@R (BGAugment configs select on
# the background-replaced validation MAP@R instead, as the authors do).
selection_metric = 'retrieval/clean/MAP@R'
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best=selection_metric,
        rule='greater',
    ),
)
custom_hooks = [
    dict(type='DeterministicRandomStateHook'),
    dict(
        type='EarlyStoppingHook',
        monitor=selection_metric,
        rule='greater',
        min_delta=0.0,
        patience=15,
    ),
]
randomness = dict(seed=42, deterministic=False)
