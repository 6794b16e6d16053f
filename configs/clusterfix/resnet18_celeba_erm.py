# ERM on CelebA (Blond_Hair, bias Male): MMPretrain's ImageNet-1k ResNet-18 (downloaded
# on first use; a local file: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH), a new 2-way head, plain
# cross-entropy; ClusterFix's recipe (class-balanced batches, Adam lr 1e-4, wd 1e-2,
# batch 256, 100 epochs, cosine). The baseline of the ClusterFix table.
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/celeba_bs256.py',
    '../_base_/schedules/clusterfix_adam_100e.py',
]

pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet18_8xb32_in1k_20210831-fbbb1da6.pth'
)
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')
    ),
    head=dict(num_classes=2, topk=(1,)),
)
