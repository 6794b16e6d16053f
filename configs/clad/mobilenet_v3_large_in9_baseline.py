# Baseline of CLAD (BMVC 2022) on ImageNet-9 with a MobileNetV3-Large instead
# of the paper's ResNet-50: MMPretrain's ImageNet-1k weights (converted from
# torchvision), 9-way head, cross-entropy only; the paper's recipe otherwise
# (Adam lr 1e-3, x0.1 after epoch 20, 60 epochs, batch 64, 224 px, seed 42).
# Smoke-tested only: not trained on IN-9 here.
_base_ = [
    'mmpretrain::_base_/models/mobilenet_v3/mobilenet_v3_large_imagenet.py',
    '../_base_/datasets/in9_bs64.py',
    '../_base_/schedules/in9_adam_60e.py',
    'mmpretrain::_base_/default_runtime.py',
]

# MMPretrain's mobilenet-v3-large_3rdparty_in1k (74.04 top-1, the better of
# its two ImageNet-1k checkpoints for this backbone; its own
# mobilenet-v3-large_8xb128_in1k has 73.49). A path to a local file works
# too: --cfg-options
# model.backbone.init_cfg.checkpoint=/path/to/mobilenet_v3_large.pth
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/mobilenet_v3/convert/'
    'mobilenet_v3_large-3ea3c186.pth'
)

# The base's head is StackedLinearClsHead: pooled 960-d feature -> 1280-d
# hidden layer (HSwish, dropout 0.2) -> classes. The hidden layer is part of
# the pretrained network (torchvision's classifier[0]; MMPretrain evaluates
# the checkpoint with this head) and is CLAD's contrastive feature
# (head.pre_logits), so it is loaded too and only the last layer is new:
# the head's init_cfg first draws the base's Normal init, then loads the
# checkpoint's head entries, skipping the 1000-class layer with a
# "size mismatch for layers.1.fc" warning.
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone'),
    ),
    head=dict(
        num_classes=9,
        topk=(1,),
        init_cfg=[
            dict(type='Normal', layer='Linear', mean=0.0, std=0.01, bias=0.0),
            dict(type='Pretrained', checkpoint=pretrained, prefix='head'),
        ],
    ),
)
# The ImageNet statistics (RGB) of MMPretrain's MobileNetV3-Large recipe.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
)

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
