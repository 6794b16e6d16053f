"""CLAD works with other MMPretrain backbones by config alone.

Each case takes the SynBG CLAD config, swaps in another backbone (and the
neck and head it needs) plus the matching dictionary ``feat_dim``, and runs
one training loss and backward pass through the config's data preprocessor.
The architectures are shrunk with ``arch=dict(...)`` so each case takes a
fraction of a second on a CPU.
"""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
NUM_CLASSES = 9
IMAGE_SIZE = 32

# name: (backbone, neck, head in_channels = contrastive feature size, head
# type, dotted path of the backbone's first layer).
BACKBONES = {
    'vit': (
        dict(
            type='VisionTransformer',
            arch=dict(
                embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64
            ),
            img_size=IMAGE_SIZE,
            patch_size=8,
            out_type='cls_token',
        ),
        None,  # the class token is already one vector per image
        32,
        'VisionTransformerClsHead',
        'patch_embed.projection',
    ),
    'convnext': (
        dict(
            type='ConvNeXt',
            arch=dict(depths=[1, 1, 1, 1], channels=[16, 32, 48, 64]),
            gap_before_final_norm=True,
        ),
        None,  # gap_before_final_norm pools inside the backbone
        64,
        'LinearClsHead',
        'downsample_layers.0.0',
    ),
}


def clad_config_with(backbone, neck, feat_dim, head_type):
    """The SynBG CLAD model config with another backbone, as a user writes it.

    Args:
        backbone (dict): Backbone config.
        neck (dict | None): Neck config.
        feat_dim (int): Size of the head's input, the contrastive feature.
        head_type (str): Classification head type.

    Returns:
        ConfigDict: The model config, with the config's data preprocessor as
        the Runner would merge it in.
    """
    cfg = Config.fromfile(CLAD_CONFIG)
    cfg.model.backbone = backbone
    cfg.model.neck = neck
    cfg.model.head = dict(
        type=head_type,
        num_classes=NUM_CLASSES,
        in_channels=feat_dim,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    )
    cfg.model.dictionary.feat_dim = feat_dim
    cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return cfg.model


def two_view_batch(labels, background_labels):
    """A collated two-view batch as the CLAD training pipeline yields it.

    Args:
        labels (list[int]): Class of each anchor.
        background_labels (list[int]): Background class of each positive.

    Returns:
        dict: ``inputs`` (anchor and positive uint8 batches) and
        ``data_samples`` with ``gt_label`` and ``pos_bg_label``.
    """
    generator = torch.Generator().manual_seed(0)
    views = [
        torch.randint(
            0,
            256,
            (len(labels), 3, IMAGE_SIZE, IMAGE_SIZE),
            generator=generator,
            dtype=torch.uint8,
        )
        for _ in range(2)
    ]
    samples = []
    for label, background in zip(labels, background_labels):
        sample = DataSample().set_gt_label(label)
        sample.set_field(background, 'pos_bg_label')
        samples.append(sample)
    return dict(inputs=views, data_samples=samples)


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_backbone_trains_with_clad(name):
    backbone, neck, feat_dim, head_type, first_layer = BACKBONES[name]
    torch.manual_seed(0)
    model = MODELS.build(clad_config_with(backbone, neck, feat_dim, head_type))
    model.train()
    background_labels = [3, 0, 8, 3]
    data = model.data_preprocessor(
        two_view_batch([0, 4, 2, 7], background_labels), training=True
    )

    losses = model.loss(data['inputs'], data['data_samples'])

    assert {'loss_cls', 'loss_infonce'} <= set(losses)
    for key in ('loss_cls', 'loss_infonce'):
        assert torch.isfinite(losses[key]), (key, losses[key])
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    first_weight = model.backbone.get_submodule(first_layer).weight
    assert first_weight.grad is not None
    assert torch.isfinite(first_weight.grad).all()
    assert first_weight.grad.abs().sum() > 0

    # The positives went into the queues of their background classes, in
    # batch order, after the first batch had filled every queue (so that the
    # pointers were back at slot 0).
    anchors, positives = data['inputs']
    with torch.no_grad():  # same batch, so the same normalisation statistics
        features = model.extract_feat(torch.cat([anchors, positives]))
        embeddings = model.head.pre_logits(
            tuple(feature[len(anchors) :] for feature in features)
        )
    assert embeddings.shape == (len(anchors), feat_dim)
    queues = model.dictionary.queues
    slots_used = {}
    for index, background in enumerate(background_labels):
        slot = slots_used.get(background, 0)
        slots_used[background] = slot + 1
        torch.testing.assert_close(queues[background, slot], embeddings[index])
