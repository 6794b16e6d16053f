"""A bad file behind a sample is named; degenerate masks and BG-GAP warn."""

import os

import cv2
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.datasets.sample_diagnosis import find_bad_sample_file
from clad_mm.datasets.transforms import load_foreground_mask
from clad_mm.evaluation import format_split_table
from clad_mm.utils.errors import MissingFileError, UserError

SIZE = 8
CLASS_FOLDERS = ('00_a', '01_b')
TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='LoadBackgroundFromFile'),
]


def write_train_root(root, mask=None):
    """Two classes of one sample each; ``mask`` replaces the object mask."""
    object_mask = np.zeros((SIZE, SIZE), np.uint8)
    object_mask[2:6, 2:6] = 1
    for label, folder in enumerate(CLASS_FOLDERS):
        image = np.full((SIZE, SIZE, 3), 60 + 100 * label, np.uint8)
        for parent, array in (
            ('original', image),
            ('only_bg_t', image // 2),
            ('fg_mask', 255 * (object_mask if mask is None else mask)),
        ):
            os.makedirs(root / parent / 'train' / folder, exist_ok=True)
            extension = '.png' if parent == 'fg_mask' else '.JPEG'
            path = root / parent / 'train' / folder / f'x{label}{extension}'
            assert cv2.imwrite(str(path), array)
    return root


class BrokenTransform:
    """A pipeline step with a bug."""

    def __call__(self, results):
        raise RuntimeError('a defect of the pipeline')


def build_train(root, pipeline=TRAIN_PIPELINE):
    return DATASETS.build(
        dict(
            type='BGChallengeTrainDataset',
            data_root=str(root),
            pipeline=pipeline,
            serialize_data=False,
        )
    )


@pytest.mark.parametrize(
    'content, folder',
    [
        (b'', 'original'),
        (b'\xff\xd8\xff\xe0 truncated JPEG', 'original'),
        (b'not an image at all', 'only_bg_t'),
    ],
)
def test_undecodable_file_is_named_instead_of_opencvs_error(tmp_path, content, folder):
    root = write_train_root(tmp_path)
    bad = root / folder / 'train' / '01_b' / 'x1.JPEG'
    bad.write_bytes(content)
    dataset = build_train(root)
    dataset[0]  # the other sample is fine
    with pytest.raises(UserError) as raised:
        dataset[1]
    message = str(raised.value)
    assert str(bad) in message
    assert 'cannot be decoded as an image' in message
    assert 'sample 1' in message
    # The pipeline's own failure stays attached for a developer.
    assert raised.value.__cause__ is not None


def test_image_removed_after_listing_is_a_missing_file(tmp_path):
    root = write_train_root(tmp_path)
    dataset = build_train(root)
    image = root / 'original' / 'train' / '00_a' / 'x0.JPEG'
    image.unlink()
    with pytest.raises(MissingFileError, match=f'{image}: no such image file'):
        dataset[0]


def test_a_pipeline_defect_keeps_its_own_exception(tmp_path):
    root = write_train_root(tmp_path)
    # Every file reads; the failure is the pipeline's.
    dataset = build_train(root, [dict(type='LoadImageFromFile'), BrokenTransform()])
    with pytest.raises(RuntimeError, match='a defect of the pipeline'):
        dataset[0]


def test_find_bad_sample_file_reads_only_file_keys(tmp_path):
    good = tmp_path / 'good.png'
    assert cv2.imwrite(str(good), np.zeros((2, 2), np.uint8))
    missing_mask = str(tmp_path / 'mask.npy')
    info = dict(img_path=str(good), gt_label=3, sample_idx=4)
    assert find_bad_sample_file(info) is None
    error = find_bad_sample_file(dict(info, fg_mask_path=missing_mask))
    assert isinstance(error, MissingFileError)
    assert str(error) == (
        f'The foreground mask of sample 4 cannot be read: {missing_mask}: no such file'
    )


@pytest.fixture
def fresh_degenerate_record(monkeypatch):
    monkeypatch.setattr(load_foreground_mask, '_degenerate_masks_named', set())


@pytest.mark.parametrize(
    'value, found, consequence',
    [
        (0, 'has no foreground pixel', 'positive of the donor background alone'),
        (1, 'is foreground everywhere', 'the positive equals the anchor'),
    ],
)
def test_degenerate_mask_warns_once_per_file(
    tmp_path, logged_warnings, fresh_degenerate_record, value, found, consequence
):
    root = write_train_root(tmp_path, mask=np.full((SIZE, SIZE), value, np.uint8))
    dataset = build_train(root)
    for _ in range(3):
        dataset[0]
        dataset[1]
    assert len(logged_warnings) == 2
    for label, message in enumerate(logged_warnings):
        mask_path = root / 'fg_mask' / 'train' / CLASS_FOLDERS[label]
        assert message.startswith(f'Foreground mask {mask_path / f"x{label}.png"}')
        assert found in message and consequence in message


def test_degenerate_masks_stop_being_named_after_the_limit(
    logged_warnings, fresh_degenerate_record, monkeypatch
):
    monkeypatch.setattr(load_foreground_mask, 'MAX_DEGENERATE_MASKS_NAMED', 2)
    empty = np.zeros((2, 2), np.uint8)
    for index in range(4):
        load_foreground_mask.warn_if_degenerate(empty, f'm{index}.png')
    load_foreground_mask.warn_if_degenerate(np.eye(2, dtype=np.uint8), 'ok.png')
    assert [message.split()[2] for message in logged_warnings] == ['m0.png', 'm1.png']
    assert 'further such masks are not named' in logged_warnings[1]


def write_test_root(root, splits):
    for split in splits:
        for folder in CLASS_FOLDERS:
            os.makedirs(root / split / 'val' / folder)
            image = np.zeros((SIZE, SIZE, 3), np.uint8)
            assert cv2.imwrite(str(root / split / 'val' / folder / 'y.JPEG'), image)
    return root


@pytest.mark.parametrize(
    'splits, missing',
    [
        (('original', 'mixed_same', 'only_fg'), ['mixed_rand']),
        (('original', 'no_fg'), ['mixed_same', 'mixed_rand']),
        (('original', 'mixed_same', 'mixed_rand'), []),
        (('original', 'stylized'), []),  # a texture test set has no BG-GAP
    ],
)
def test_test_root_without_a_bg_gap_split_warns(
    tmp_path, logged_warnings, splits, missing
):
    root = write_test_root(tmp_path, splits)
    DATASETS.build(dict(type='BGChallengeTestDataset', data_root=str(root)))
    if not missing:
        assert logged_warnings == []
        return
    (message,) = logged_warnings
    folders = ' and no '.join(str(root / split / 'val') for split in missing)
    assert message == (
        f'The test set {root} has no {folders}: BG-GAP (mixed_same - mixed_rand) '
        'is not reported'
    )


def test_split_table_says_why_bg_gap_is_missing():
    table = format_split_table(
        {'bg_challenge/original': 90.0, 'bg_challenge/mixed_same': 80.0}
    )
    assert table.splitlines()[-1] == (
        '| BG-GAP (mixed_same − mixed_rand) | not reported: no mixed_rand |'
    )
    with_gap = format_split_table(
        {
            'bg_challenge/mixed_same': 80.0,
            'bg_challenge/mixed_rand': 70.0,
            'bg_challenge/bg_gap': 10.0,
        }
    )
    assert with_gap.splitlines()[-1] == '| BG-GAP (mixed_same − mixed_rand) | 10.00 |'
