import os
import shutil

import cv2
import numpy as np
import pytest
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import DATASETS

import clad_mm  # noqa: F401  (registers the components)

CLASS_FOLDERS = ('00_dog', '01_musical instrument')
STEMS = ('n02_x', 'n01_y')  # unsorted on purpose
SIZE = 8


def write_test_root(root, splits, with_masks=False, subset='val'):
    """Writes a tiny Background Challenge test set and returns its root."""
    for split in splits:
        for label, folder in enumerate(CLASS_FOLDERS):
            for stem in STEMS:
                path = root / split / subset / folder / f'{stem}.JPEG'
                path.parent.mkdir(parents=True, exist_ok=True)
                image = np.full((SIZE, SIZE, 3), 50 * label, np.uint8)
                assert cv2.imwrite(str(path), image)
    if with_masks:
        for folder in CLASS_FOLDERS:
            mask_dir = root / 'fg_mask' / 'val' / folder
            mask_dir.mkdir(parents=True)
            for stem in STEMS:
                np.save(mask_dir / f'{stem}.npy', np.eye(SIZE, dtype=np.uint8))
    return root


def build(root, **kwargs):
    # Serializing runs gc.collect(), 0.3 s per dataset; the pipeline test
    # keeps the default to cover it.
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='BGChallengeTestDataset', data_root=str(root), **kwargs)
    )


def test_finds_exactly_the_present_splits_in_known_order(tmp_path):
    root = write_test_root(tmp_path, ['mixed_rand', 'original', 'only_fg', 'painted'])
    (root / 'fg_mask' / 'val' / '00_dog').mkdir(parents=True)

    dataset = build(root)

    assert dataset.split_names == ('original', 'only_fg', 'mixed_rand')
    assert dataset.metainfo['splits'] == dataset.split_names
    assert dataset.metainfo['classes'] == ('dog', 'musical instrument')
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    expected = [
        (split, label, f'{root}/{split}/val/{folder}/{stem}.JPEG')
        for split in dataset.split_names
        for label, folder in enumerate(CLASS_FOLDERS)
        for stem in sorted(STEMS)
    ]
    assert [
        (info['split'], info['gt_label'], info['img_path']) for info in infos
    ] == expected
    assert all('fg_mask_path' not in info for info in infos)


def test_explicit_splits_keep_their_order(tmp_path):
    root = write_test_root(tmp_path, ['original', 'mixed_same', 'mixed_rand'])

    dataset = build(root, splits=['mixed_rand', 'original'])

    assert dataset.split_names == ('mixed_rand', 'original')
    assert [dataset.get_data_info(i)['split'] for i in (0, 3, 4, 7)] == [
        'mixed_rand',
        'mixed_rand',
        'original',
        'original',
    ]


def test_explicit_split_must_exist(tmp_path):
    root = write_test_root(tmp_path, ['original'])

    with pytest.raises(FileNotFoundError) as error:
        build(root, splits=['original', 'mixed_next'])
    message = str(error.value)
    assert f"Split 'mixed_next' is not in the test set {root}:" in message
    assert f'{root}/mixed_next/val does not exist' in message
    assert "splits found there: ['original']" in message


def test_no_split_present_lists_what_was_looked_for(tmp_path):
    root = write_test_root(tmp_path, ['painted'])

    with pytest.raises(FileNotFoundError) as error:
        build(root)
    message = str(error.value)
    assert f'No test split found under {root}' in message
    for split in ('original', 'only_bg_b', 'mixed_next', 'stylized', 'only_texture'):
        assert f'{root}/{split}/val' in message


def test_texture_splits_follow_the_background_splits(tmp_path):
    # IN-9 texture evaluation and the SynBG texture variant, mixed on purpose.
    splits = ['sketch', 'only_texture', 'stylized', 'original', 'mixed_rand']
    root = write_test_root(tmp_path, [*splits, 'outline', 'random_texture'])

    assert build(root).split_names == (
        'original',
        'mixed_rand',
        'stylized',
        'sketch',
        'random_texture',
        'outline',
        'only_texture',
    )
    dataset = build(root, splits=['sketch', 'stylized'])
    assert dataset.split_names == ('sketch', 'stylized')
    assert dataset.get_data_info(0)['img_path'].startswith(f'{root}/sketch/val/')


def test_missing_data_root_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'{tmp_path}/nowhere does not exist'):
        build(tmp_path / 'nowhere')


def test_split_named_twice_is_refused(tmp_path):
    with pytest.raises(ValueError, match='names a split twice'):
        build(tmp_path, splits=['original', 'original'])


def test_splits_must_share_class_folders(tmp_path):
    root = write_test_root(tmp_path, ['original', 'only_fg'])
    shutil.rmtree(root / 'only_fg' / 'val' / '00_dog')

    with pytest.raises(ValueError) as error:
        build(root)
    assert f"'00_dog' is in {root}/original/val but not in {root}/only_fg/val" in (
        str(error.value)
    )


def test_other_subset(tmp_path):
    root = write_test_root(tmp_path, ['original', 'mixed_rand'], subset='train')
    write_test_root(tmp_path, ['only_fg'])

    dataset = build(root, subset='train')

    assert dataset.split_names == ('original', 'mixed_rand')
    assert dataset.get_data_info(0)['img_path'].startswith(f'{root}/original/train/')


def test_with_fg_mask_attaches_masks(tmp_path):
    root = write_test_root(tmp_path, ['original', 'only_fg'], with_masks=True)

    dataset = build(root, with_fg_mask=True)

    info = dataset.get_data_info(len(STEMS) * len(CLASS_FOLDERS) + 3)
    assert info['split'] == 'only_fg'
    assert info['img_path'] == f'{root}/only_fg/val/01_musical instrument/n02_x.JPEG'
    assert info['fg_mask_path'] == f'{root}/fg_mask/val/01_musical instrument/n02_x.npy'
    assert info['fg_mask_source'] == 'mask'


def test_with_fg_mask_requires_a_mask_per_image(tmp_path):
    root = write_test_root(tmp_path, ['original'], with_masks=True)
    os.remove(root / 'fg_mask' / 'val' / '00_dog' / 'n01_y.npy')

    with pytest.raises(ValueError) as error:
        build(root, with_fg_mask=True)
    message = str(error.value)
    assert f'1 stems of {root}/original/val have no file in {root}/fg_mask/val' in (
        message
    )
    assert '00_dog/n01_y' in message


def test_with_fg_mask_names_an_image_whose_mask_has_another_stem(tmp_path):
    root = write_test_root(tmp_path, ['original'], with_masks=True)
    mask_dir = root / 'fg_mask' / 'val' / '01_musical instrument'
    os.rename(mask_dir / 'n02_x.npy', mask_dir / 'n02_x_mask.npy')

    with pytest.raises(ValueError) as error:
        build(root, with_fg_mask=True)
    message = str(error.value)
    assert f'1 stems of {root}/original/val have no file in {root}/fg_mask/val' in (
        message
    )
    assert '01_musical instrument/n02_x' in message


def test_mask_of_another_size_is_named_when_loaded(tmp_path):
    root = write_test_root(tmp_path, ['original'], with_masks=True)
    mask_path = root / 'fg_mask' / 'val' / '00_dog' / 'n01_y.npy'
    np.save(mask_path, np.ones((SIZE + 2, SIZE), np.uint8))
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadForegroundMask')]
    dataset = build(root, with_fg_mask=True, pipeline=pipeline)

    dataset[1]  # 00_dog/n02_x keeps a mask of the right size
    with pytest.raises(ValueError) as error:
        dataset[0]
    assert str(error.value) == (
        f'Foreground mask {mask_path} is {SIZE + 2}x{SIZE} (HxW) but its image '
        f'{root}/original/val/00_dog/n01_y.JPEG is {SIZE}x{SIZE}'
    )


def test_with_fg_mask_requires_the_mask_folder(tmp_path):
    root = write_test_root(tmp_path, ['original'])

    with pytest.raises(FileNotFoundError, match=f'{root}/fg_mask/val does not exist'):
        build(root, with_fg_mask=True)


def test_split_reaches_the_packed_data_sample(tmp_path):
    root = write_test_root(tmp_path, ['original', 'mixed_rand'], with_masks=True)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadForegroundMask'),
        dict(
            type='PackInputs',
            algorithm_keys=('fg_mask',),
            meta_keys=PackInputs.DEFAULT_META_KEYS + ('split',),
        ),
    ]
    dataset = build(root, with_fg_mask=True, pipeline=pipeline, serialize_data=True)

    sample = dataset[len(dataset) - 1]
    data_sample = sample['data_samples']
    assert sample['inputs'].shape == (3, SIZE, SIZE)
    assert data_sample.split == 'mixed_rand'
    assert 'split' in data_sample.metainfo_keys()
    # What a metric's process() receives from the evaluator.
    assert data_sample.to_dict()['split'] == 'mixed_rand'
    assert data_sample.gt_label.tolist() == [1]
    np.testing.assert_array_equal(data_sample.fg_mask, np.eye(SIZE))
