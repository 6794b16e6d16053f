# Short CPU fine-tuning schedule for SynBG from an ImageNet-pretrained
# backbone: CLAD's optimiser (Adam lr 1e-3, no weight decay), 3 epochs,
# lr x0.1 for the last one. Sized so that `make demo-pretrained` trains its
# five models in about 15 minutes on 2 CPU cores.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[2], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=3)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
# The training process's random state before each iteration is a function of
# (seed, iteration), so --resume continues exactly. A config that sets its own
# custom_hooks must list this hook too (tests/test_configs checks it).
custom_hooks = [dict(type='DeterministicRandomStateHook')]
