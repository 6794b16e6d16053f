# The embedded demo (`make demo-dml`): the ImageNet EfficientNet-Lite0 trunk, a 128-d
# embedding trained with the ArcFace loss (the authors' values for Stanford Online
# Products, whose layout SynSOP has) on SynSOP at 64 px, 8 epochs of Adam on CPU. No
# background augmentation: the base model.
_base_ = [
    '../_base_/models/efficientnet_lite0_dml.py',
    '../_base_/datasets/synsop_dml_bs32.py',
    '../_base_/schedules/synsop_finetune_adam_8e.py',
]

# A proxy loss: one proxy per SynSOP training class (48) at 100x the trunk's
# learning rate; m = 1.
model = dict(
    head=dict(
        loss={
            '_delete_': True,
            'type': 'ArcFaceLoss',
            'num_classes': 48,
            'embedding_size': 128,
            'margin': 18.6319,
            'scale': 220.3629,
        }
    )
)
train_dataloader = dict(sampler=dict(m=1))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head.loss_module': dict(lr_mult=100.0)})
)
