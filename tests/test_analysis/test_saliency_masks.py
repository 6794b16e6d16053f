"""The saliency on the object: its share inside the mask, and the masks it uses."""

import importlib.util
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from clad_mm.analysis.smooth_grad import (
    attention_in_mask,
    foreground_mask_path,
    pipeline_mask,
)
from clad_mm.apis.inference_pipeline import InferencePipeline
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize(
    'attention, mask, expected',
    [
        # Σ(A·M) = 1·1 + 2·0.5 = 2 of ΣA = 6; the mask covers 1.5 of 4 pixels.
        ([[1.0, 2.0], [3.0, 0.0]], [[1.0, 0.5], [0.0, 0.0]], (1 / 3, 3 / 8)),
        # All the attention on the one masked pixel.
        ([[0.0, 0.0], [0.0, 5.0]], [[0.0, 0.0], [0.0, 1.0]], (1.0, 1 / 4)),
        # Uniform attention: the share inside is the mask's area.
        ([[0.7] * 3] * 2, [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]], (1 / 3, 1 / 3)),
    ],
)
def test_shares_match_the_hand_computed_ones(attention, mask, expected):
    shares = attention_in_mask(torch.tensor(attention), torch.tensor(mask))
    assert shares == pytest.approx(expected)


def test_no_attention_has_no_share_but_the_area_still_counts():
    inside, area = attention_in_mask(
        torch.zeros(2, 2), torch.tensor([[1.0, 0], [0, 0]])
    )
    assert math.isnan(inside) and area == 0.25


def test_mismatched_or_out_of_range_inputs_are_refused():
    with pytest.raises(ValueError, match='one size'):
        attention_in_mask(torch.ones(2, 2), torch.ones(2, 3))
    with pytest.raises(ValueError, match='non-negative'):
        attention_in_mask(-torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        attention_in_mask(torch.ones(2, 2), torch.full((2, 2), 2.0))


def write_test_image(root, split, size=4):
    folder = root / split / 'val' / '00_dog'
    folder.mkdir(parents=True)
    path = folder / 'a.png'
    cv2.imwrite(str(path), np.full((size, size, 3), 128, np.uint8))
    return str(path)


def test_every_split_finds_the_stems_mask(tmp_path):
    image = write_test_image(tmp_path, 'mixed_rand')
    assert foreground_mask_path(image) is None
    (tmp_path / 'fg_mask' / 'val' / '00_dog').mkdir(parents=True)
    mask = tmp_path / 'fg_mask' / 'val' / '00_dog' / 'a.npy'
    np.save(mask, np.ones((4, 4), np.uint8))
    assert foreground_mask_path(image) == str(mask)


def resizing_pipeline(size):
    return InferencePipeline(
        Config(
            dict(
                test_dataloader=dict(
                    dataset=dict(
                        pipeline=[
                            dict(type='LoadImageFromFile'),
                            dict(type='Resize', scale=(size, size)),
                            dict(type='PackInputs'),
                        ]
                    )
                )
            )
        )
    )


def test_the_mask_follows_the_pipelines_resize(tmp_path):
    image = write_test_image(tmp_path, 'original')
    left_half = np.zeros((4, 4), np.uint8)
    left_half[:, :2] = 1
    np.save(tmp_path / 'mask.npy', left_half)

    mask = pipeline_mask(resizing_pipeline(8), image, str(tmp_path / 'mask.npy'))

    assert mask.shape == (8, 8) and mask.dtype == np.float32
    assert (mask[:, :3] == 1).all() and (mask[:, 5:] == 0).all()
    assert mask.mean() == pytest.approx(0.5)


def test_a_mask_of_another_size_is_named(tmp_path):
    image = write_test_image(tmp_path, 'original')
    np.save(tmp_path / 'small.npy', np.ones((2, 2), np.uint8))
    with pytest.raises(UserError, match='small.npy is 2x2'):
        pipeline_mask(resizing_pipeline(8), image, str(tmp_path / 'small.npy'))


def test_the_tools_captions_give_the_area_and_the_share_on_the_object():
    spec = importlib.util.spec_from_file_location(
        'saliency_tool', osp.join(REPO_ROOT, 'tools/analysis/saliency.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    image = np.zeros((3, 4, 4), np.uint8)
    mask = np.zeros((4, 4), np.float32)
    explained = dict(
        image=image,
        saliency=np.zeros((4, 4)),
        pred_class='dog',
        pred_score=0.9,
        mask=mask,
        mask_area=0.25,
        saliency_in_mask=0.6,
    )
    unmasked = dict(explained, mask=None, mask_area=None, saliency_in_mask=None)

    rows = tool.build_grid(
        ['data/t/mixed_rand/val/00_dog/a.png', 'elsewhere/b.png'],
        {'Base': [explained, unmasked]},
    )

    assert [cell.caption for cell in rows[0]] == [
        'a.png\ntrue: dog\nobject: 25% of image',
        'Base\npred: dog (90%)\non object: 60%',
    ]
    assert rows[0][1].mask is mask
    assert [cell.caption for cell in rows[1]] == [
        'b.png\ntrue: unknown',
        'Base\npred: dog (90%)',
    ]
    assert rows[1][1].mask is None
