# EfficientNet-Lite0 as trained on ImageNet-1k: the 1000-class model itself,
# for inference and ImageNet validation, e.g.
#   ImageClassificationInferencer(
#       model='configs/efficientnet_lite/efficientnet_lite0_in1k.py',
#       pretrained='checkpoints/efficientnet_lite0_in1k.pth')
#   python tools/test.py configs/efficientnet_lite/efficientnet_lite0_in1k.py \
#       checkpoints/efficientnet_lite0_in1k.pth   # reads data/imagenet/val
_base_ = [
    '../_base_/models/efficientnet_lite0.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

# tools/test.py replaces load_from with its CHECKPOINT argument.
load_from = 'checkpoints/efficientnet_lite0_in1k.pth'

# EfficientNet-Lite's own input statistics (TensorFlow's lite builder:
# mean 127, std 128 on every channel, RGB), not ImageNet's.
data_preprocessor = dict(
    num_classes=1000,
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    to_rgb=True,
)

# The evaluation of the TF EfficientNets: bicubic resize of the short side
# to 224 / 0.875 = 256, centre crop 224.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# ImageNet's val set in MMPretrain's layout (data/imagenet/meta/val.txt and
# data/imagenet/val/); the class names come from the dataset (and from the
# converted checkpoint's meta).
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='ImageNet',
        data_root='data/imagenet',
        split='val',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='Accuracy', topk=(1, 5))
test_cfg = dict()
