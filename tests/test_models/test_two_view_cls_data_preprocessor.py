"""TwoViewClsDataPreprocessor treats every view like a plain batch."""

import pytest
import torch
from mmpretrain.structures import DataSample

from clad_mm.models.data_preprocessors import TwoViewClsDataPreprocessor

MEAN, STD = [10.0, 20.0, 30.0], [2.0, 4.0, 5.0]


def samples(labels):
    return [DataSample().set_gt_label(label) for label in labels]


def expected(view_bgr):
    """Hand-written reference: BGR→RGB, then (x - mean) / std per channel."""
    rgb = view_bgr.float()[:, [2, 1, 0]]
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (rgb - mean) / std


def test_each_view_is_converted_and_normalised():
    preprocessor = TwoViewClsDataPreprocessor(mean=MEAN, std=STD, to_rgb=True)
    anchor = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    positive = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    out = preprocessor(
        {'inputs': [anchor, positive], 'data_samples': samples([1, 2])}, True
    )
    assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
    torch.testing.assert_close(out['inputs'][0], expected(anchor))
    torch.testing.assert_close(out['inputs'][1], expected(positive))
    assert [int(s.gt_label) for s in out['data_samples']] == [1, 2]


def test_plain_batch_matches_parent():
    kwargs = dict(mean=MEAN, std=STD, to_rgb=True)
    batch = torch.randint(0, 256, (3, 3, 4, 4), dtype=torch.uint8)
    ours = TwoViewClsDataPreprocessor(**kwargs)(
        {'inputs': batch, 'data_samples': samples([0, 1, 2])}
    )
    torch.testing.assert_close(ours['inputs'], expected(batch))


def test_batch_augments_with_views_are_refused():
    preprocessor = TwoViewClsDataPreprocessor(
        mean=MEAN,
        std=STD,
        num_classes=3,
        batch_augments=dict(augments=dict(type='Mixup', alpha=1.0)),
    )
    views = [torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)]
    with pytest.raises(ValueError, match='batch_augments'):
        preprocessor({'inputs': views, 'data_samples': samples([0, 1])}, True)
