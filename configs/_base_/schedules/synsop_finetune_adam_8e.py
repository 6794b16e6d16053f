# Short CPU fine-tuning schedule of the SynSOP demo from an ImageNet-pretrained
# trunk: Adam lr 1e-4 (the paper's RMSprop lr 1e-6 needs hundreds of epochs),
# 8 epochs, no validation, the last checkpoint tested. Proxy losses set their
# proxies' learning rate in the leaf configs.
_base_ = ['mmpretrain::_base_/default_runtime.py']

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0))
train_cfg = dict(by_epoch=True, max_epochs=8)
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
)
custom_hooks = [dict(type='DeterministicRandomStateHook')]
randomness = dict(seed=0, deterministic=False)
