"""StylizingDataPreprocessor: [anchor, content, style] -> [anchor, stylized]."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample
from torch import nn

import clad_mm.models.stylization.adain  # noqa: F401  (registers AdaINStylizer)
from clad_mm.datasets.transforms.load_style_image import LoadStyleImage
from clad_mm.models.data_preprocessors.stylizing_data_preprocessor import (
    StylizingDataPreprocessor,
)
from clad_mm.models.data_preprocessors.two_view_cls_data_preprocessor import (
    TwoViewClsDataPreprocessor,
)

MEAN, STD = [10.0, 20.0, 30.0], [2.0, 4.0, 5.0]
SIZE = 16


class MixingStylizer(nn.Module):
    """A stand-in stylizer that treats the channels differently."""

    def forward(self, content, style):
        weights = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
        return weights * content + (1 - weights) * style.mean(dim=(2, 3), keepdim=True)


class RecordingStylizer(nn.Module):
    """Returns ``output``, or the style when None; keeps what it was given."""

    def __init__(self, output=None):
        super().__init__()
        self.output = output
        self.calls = []

    def forward(self, content, style):
        self.calls.append((content, style))
        return style if self.output is None else self.output.expand_as(content)


def responsive_adain():
    """AdaINStylizer with a seeded init whose output depends on its input.

    PyTorch's default init shrinks the signal through the 15 convs to an
    almost constant output; He init and a scaled-down, 0.5-biased last conv
    keep it in (0, 1) and input dependent.
    """
    torch.manual_seed(0)
    stylizer = MODELS.build(dict(type='AdaINStylizer', alpha=1.0))
    for module in stylizer.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
            nn.init.zeros_(module.bias)
    stylizer.decoder[-1].weight.data.mul_(0.1)
    stylizer.decoder[-1].bias.data.fill_(0.5)
    return stylizer


def samples(labels):
    return [DataSample().set_gt_label(label) for label in labels]


def normalised_rgb(view_bgr_0_255):
    """Hand-written: BGR -> RGB, then (x - mean) / std per channel."""
    rgb = view_bgr_0_255.float()[:, [2, 1, 0]]
    return (rgb - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(
        1, 3, 1, 1
    )


def normalise(rgb_0_255):
    return (rgb_0_255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(
        1, 3, 1, 1
    )


def views(batch=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randint(0, 256, (batch, 3, SIZE, SIZE), generator=generator).to(
            torch.uint8
        )
        for _ in range(3)
    ]


def build(stylizer, **kwargs):
    return StylizingDataPreprocessor(
        stylizer=stylizer, mean=MEAN, std=STD, to_rgb=True, **kwargs
    )


@pytest.mark.parametrize('which', ['mixing', 'adain'])
def test_stylized_view_is_the_stylizer_on_rgb01_then_normalised(which):
    stylizer = MixingStylizer() if which == 'mixing' else responsive_adain()
    preprocessor = build(stylizer)
    anchor, content, style = views()

    out = preprocessor(
        {'inputs': [anchor, content, style], 'data_samples': samples([0, 1])}, True
    )

    # Independent reference: BGR uint8 -> RGB in [0, 1] by indexing.
    content_rgb01 = content[:, [2, 1, 0]].float() / 255
    style_rgb01 = style[:, [2, 1, 0]].float() / 255
    stylized_rgb01 = stylizer(content_rgb01, style_rgb01)
    # The reference must depend on the channel order for the test to prove it.
    in_bgr = stylizer(content_rgb01.flip(1), style_rgb01.flip(1))
    assert (in_bgr - stylized_rgb01).abs().max() > 0.01
    assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
    torch.testing.assert_close(out['inputs'][0], normalised_rgb(anchor))
    torch.testing.assert_close(out['inputs'][1], normalise(stylized_rgb01 * 255))
    assert [int(sample.gt_label) for sample in out['data_samples']] == [0, 1]


@pytest.mark.parametrize('to_rgb', [True, False])
def test_channel_order_with_an_asymmetric_image(to_rgb):
    # Content: one channel full, as stored; the stylizer must see it as red
    # (RGB index 0) when the loader's order is BGR (to_rgb=True), and as is
    # otherwise. Its output, pure green-blue, must come out in RGB order.
    content = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    content[:, 2 if to_rgb else 0] = 255
    output = torch.tensor([0.0, 0.4, 1.0]).view(1, 3, 1, 1)
    stylizer = RecordingStylizer(output)
    preprocessor = StylizingDataPreprocessor(
        stylizer=stylizer, mean=[0.0] * 3, std=[1.0] * 3, to_rgb=to_rgb
    )

    out = preprocessor({'inputs': [content, content, content]}, True)

    seen_content, seen_style = stylizer.calls[0]
    expected_red = torch.zeros(1, 3, 4, 4)
    expected_red[:, 0] = 1.0
    torch.testing.assert_close(seen_content, expected_red)
    torch.testing.assert_close(seen_style, expected_red)
    stylized = out['inputs'][1]
    torch.testing.assert_close(stylized[0, :, 0, 0], torch.tensor([0.0, 102.0, 255.0]))


def test_two_view_and_plain_batches_match_the_parent_without_building_stylizer():
    # Building this stylizer would fail: the file does not exist.
    stylizer = dict(type='AdaINStylizer', encoder_checkpoint='/missing/vgg.pth')
    preprocessor = build(stylizer)
    parent = TwoViewClsDataPreprocessor(mean=MEAN, std=STD, to_rgb=True)
    anchor, positive, _ = views()

    for inputs in ([anchor, positive], anchor):
        ours = preprocessor({'inputs': inputs, 'data_samples': samples([0, 1])}, True)
        theirs = parent({'inputs': inputs, 'data_samples': samples([0, 1])}, True)
        if isinstance(inputs, list):
            for our_view, their_view in zip(ours['inputs'], theirs['inputs']):
                torch.testing.assert_close(our_view, their_view)
        else:
            torch.testing.assert_close(ours['inputs'], theirs['inputs'])
    with pytest.raises(FileNotFoundError, match='/missing/vgg.pth'):
        preprocessor({'inputs': views(), 'data_samples': samples([0, 1])}, True)


def classifier(stylizer):
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
            data_preprocessor=dict(
                type='StylizingDataPreprocessor',
                stylizer=stylizer,
                mean=MEAN,
                std=STD,
            ),
        )
    )


def test_stylizer_weights_stay_out_of_checkpoints_and_strict_loading_works(tmp_path):
    config = dict(type='AdaINStylizer', alpha=1.0)
    model = classifier(config)
    model.data_preprocessor({'inputs': views(), 'data_samples': samples([0, 1])}, True)
    stylizer = model.data_preprocessor.stylizer
    stylizer_tensors = {id(tensor) for tensor in stylizer.state_dict().values()}
    plain = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
        )
    )

    state_dict = model.state_dict()

    assert set(state_dict) == set(plain.state_dict())
    assert not any(id(tensor) in stylizer_tensors for tensor in model.parameters())
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint({'state_dict': state_dict}, path)
    fresh = classifier(config)
    load_checkpoint(fresh, path, strict=True)
    fresh.load_state_dict(state_dict, strict=True)
    torch.testing.assert_close(fresh.backbone.conv1.weight, model.backbone.conv1.weight)


def make_class_folders(root):
    folders = ('00_a', '01_b', '02_c')
    rng = np.random.default_rng(3)
    infos = []
    for label, folder in enumerate(folders):
        for index in range(2):
            path = root / folder / f'{index}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), rng.integers(0, 256, (20, 24, 3), np.uint8))
            infos.append(dict(img_path=str(path), gt_label=label))
    return folders, infos


def test_end_to_end_from_files_to_anchor_and_stylized_views(tmp_path):
    folders, infos = make_class_folders(tmp_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = [
            TRANSFORMS.build(dict(type='LoadImageFromFile')),
            TRANSFORMS.build(
                dict(
                    type='MultiView',
                    num_views=2,
                    transforms=[
                        [
                            dict(type='RandomResizedCrop', scale=SIZE),
                            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                        ]
                    ],
                )
            ),
            LoadStyleImage(style_root=str(tmp_path)),
            TRANSFORMS.build(
                dict(
                    type='PackInputs',
                    algorithm_keys=('pos_texture_label',),
                    meta_keys=('img_path', 'style_path'),
                )
            ),
        ]
        np.random.seed(0)
        packed = []
        for info in infos:
            results = dict(info)
            for transform in pipeline:
                results = transform(results)
            packed.append(results)
    batch = default_collate(packed)
    data_samples = batch['data_samples']

    # With a stylizer that returns the style, the stylized view of each
    # sample must be its own style image, read independently here.
    out = build(RecordingStylizer())(batch, True)
    anchor, stylized = out['inputs']
    assert anchor.shape == stylized.shape == (len(infos), 3, SIZE, SIZE)
    for index, sample in enumerate(data_samples):
        folder = osp.basename(osp.dirname(sample.style_path))
        assert sample.pos_texture_label == folders.index(folder) != sample.gt_label
        style = cv2.resize(cv2.imread(sample.style_path), (SIZE, SIZE))
        style = torch.from_numpy(style).permute(2, 0, 1)[None]
        torch.testing.assert_close(stylized[index : index + 1], normalised_rgb(style))

    torch.manual_seed(0)
    adain_out = build(dict(type='AdaINStylizer'))(batch, True)
    assert [view.shape for view in adain_out['inputs']] == [
        (len(infos), 3, SIZE, SIZE)
    ] * 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_stylizer_follows_the_preprocessor_to_cuda():
    preprocessor = build(dict(type='AdaINStylizer')).cuda()

    out = preprocessor({'inputs': views(), 'data_samples': samples([0, 1])}, True)

    assert all(view.is_cuda for view in out['inputs'])
    assert next(preprocessor.stylizer.parameters()).is_cuda
