# Deep-metric-learning embedding model (Kobs & Hotho, "On Background Bias in
# Deep Metric Learning", ICMV 2022, https://arxiv.org/abs/2210.01615): an
# ImageNet-pretrained trunk, global average pooling, a linear map to 128-d and
# L2 normalisation, BatchNorm frozen (eval mode), trained by a
# pytorch-metric-learning loss. The paper's trunk is BN-Inception, which
# MMPretrain does not have; ResNet-50 is the default here. Leaf configs set
# head.loss (with _delete_=True: each loss takes its own arguments).
#
# The trunk starts from MMPretrain's ImageNet-1k ResNet-50 (downloaded on first
# use; another file: --cfg-options model.image_encoder.0.init_cfg.checkpoint=P).
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet50_8xb32_in1k_20210831-ea4938fc.pth'
)
embedding_size = 128
model = dict(
    type='DMLRetriever',
    image_encoder=[
        dict(
            type='ResNet',
            depth=50,
            init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'),
        ),
        dict(type='EmbeddingNeck', in_channels=2048, out_channels=embedding_size),
    ],
    head=dict(
        type='MetricLearningHead',
        loss=dict(type='TripletMarginLoss', margin=0.1),
    ),
    frozen_bn=True,
)
