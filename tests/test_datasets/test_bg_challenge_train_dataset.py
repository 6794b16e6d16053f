import os
import shutil

import cv2
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import clad_mm  # noqa: F401  (registers the components)

CLASS_FOLDERS = ('00_dog', '01_bird', '02_wheeled vehicle')
STEMS = ('n001_b', 'n001_a')  # unsorted on purpose
HEIGHT, WIDTH = 12, 16
# Class 0 keeps its masks as .npy, the others as 0/255 .png.
NPY_MASK_CLASS = '00_dog'


def object_mask(label: int, index: int) -> np.ndarray:
    """The drawn object of an image, different for every image."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    top, left = 1 + label, 2 + 3 * index
    mask[top : top + 7, left : left + 9] = 1
    return mask


def write_train_root(root, mask_dirs=('fg_mask',), background_dir='only_bg_t'):
    """Writes a tiny CLAD-layout training set and returns its root."""
    rng = np.random.default_rng(0)
    for label, folder in enumerate(CLASS_FOLDERS):
        for index, stem in enumerate(STEMS):
            mask = object_mask(label, index)
            background = rng.integers(40, 200, (HEIGHT, WIDTH, 3), np.uint8)
            foreground = np.full((HEIGHT, WIDTH, 3), (40 * label, 200, 120), np.uint8)
            image = np.where(mask[..., None] == 1, foreground, background)
            write(root / 'original' / 'train' / folder / f'{stem}.JPEG', image)
            if 'fg_mask' in mask_dirs:
                mask_path = root / 'fg_mask' / 'train' / folder / stem
                if folder == NPY_MASK_CLASS:
                    mask_path.parent.mkdir(parents=True, exist_ok=True)
                    np.save(f'{mask_path}.npy', mask)
                else:
                    write(mask_path.with_suffix('.png'), mask * 255)
            if 'fg_grabcut' in mask_dirs:
                grabcut = foreground * mask[..., None]
                # Lossless, so the derived mask is exact; JPEG halos are
                # tested with the transform.
                write(root / 'fg_grabcut' / 'train' / folder / f'{stem}.png', grabcut)
            if background_dir:
                write(
                    root / background_dir / 'train' / folder / f'{stem}.jpg', background
                )
    return root


def write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def build(root, **kwargs):
    # Serializing runs gc.collect(), 0.3 s per dataset; the pipeline test
    # keeps the default to cover it.
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='BGChallengeTrainDataset', data_root=str(root), **kwargs)
    )


def test_lists_every_image_with_label_mask_and_background(tmp_path):
    root = write_train_root(tmp_path)
    dataset = build(root)

    assert len(dataset) == len(CLASS_FOLDERS) * len(STEMS)
    assert dataset.metainfo['classes'] == ('dog', 'bird', 'wheeled vehicle')
    assert dataset.metainfo['class_folders'] == CLASS_FOLDERS
    expected = []
    for label, folder in enumerate(CLASS_FOLDERS):
        for stem in sorted(STEMS):
            mask_extension = '.npy' if folder == NPY_MASK_CLASS else '.png'
            expected.append(
                dict(
                    img_path=f'{root}/original/train/{folder}/{stem}.JPEG',
                    gt_label=label,
                    fg_mask_path=f'{root}/fg_mask/train/{folder}/{stem}{mask_extension}',
                    fg_mask_source='mask',
                    bg_path=f'{root}/only_bg_t/train/{folder}/{stem}.jpg',
                )
            )
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [{k: info[k] for k in expected[0]} for info in infos] == expected
    assert dataset.get_gt_labels().tolist() == [0, 0, 1, 1, 2, 2]


def test_auto_mask_dir_falls_back_to_grabcut(tmp_path):
    dataset = build(write_train_root(tmp_path, mask_dirs=('fg_grabcut',)))

    info = dataset.get_data_info(0)
    assert info['fg_mask_source'] == 'grabcut'
    assert info['fg_mask_path'] == f'{tmp_path}/fg_grabcut/train/00_dog/n001_a.png'


def test_auto_mask_dir_prefers_binary_masks(tmp_path):
    root = write_train_root(tmp_path, mask_dirs=('fg_mask', 'fg_grabcut'))

    assert build(root).get_data_info(0)['fg_mask_source'] == 'mask'
    grabcut = build(root, mask_dir='fg_grabcut').get_data_info(0)
    assert grabcut['fg_mask_source'] == 'grabcut'
    assert '/fg_grabcut/' in grabcut['fg_mask_path']


def test_no_background_dir_needs_no_backgrounds(tmp_path):
    dataset = build(
        write_train_root(tmp_path, background_dir=None), background_dir=None
    )

    assert len(dataset) == 6
    assert 'bg_path' not in dataset.get_data_info(0)


def test_other_image_and_background_dirs(tmp_path):
    root = write_train_root(tmp_path, background_dir='mixed_rand')
    dataset = build(root, background_dir='mixed_rand')

    assert dataset.get_data_info(5)['bg_path'] == (
        f'{root}/mixed_rand/train/02_wheeled vehicle/n001_b.jpg'
    )


def test_configured_class_names_replace_folder_names(tmp_path):
    root = write_train_root(tmp_path)

    dataset = build(root, metainfo=dict(classes=('a', 'b', 'c')))
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')
    with pytest.raises(
        ValueError, match='2 class names are configured but the data has 3'
    ):
        build(root, classes=('a', 'b'))


def test_lazy_init_reads_nothing_until_needed(tmp_path):
    dataset = build(tmp_path / 'nowhere', lazy_init=True)

    with pytest.raises(FileNotFoundError, match='nowhere'):
        dataset.full_init()


def test_unknown_mask_dir_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'fg_masks'"):
        build(write_train_root(tmp_path), mask_dir='fg_masks')


@pytest.mark.parametrize(
    'removed, kwargs, missing',
    [
        ('', {}, ''),
        ('original', {}, 'original/train'),
        ('original/train', {}, 'original/train'),
        ('only_bg_t', {}, 'only_bg_t/train'),
        ('fg_mask', {'mask_dir': 'fg_mask'}, 'fg_mask/train'),
    ],
)
def test_missing_folder_is_named(tmp_path, removed, kwargs, missing):
    root = write_train_root(tmp_path / 'root')
    shutil.rmtree(root / removed)

    with pytest.raises(FileNotFoundError) as error:
        build(root, **kwargs)
    assert str(root / missing).rstrip('/') in str(error.value)


def test_missing_foreground_folder_names_both_candidates(tmp_path):
    root = write_train_root(tmp_path)
    shutil.rmtree(root / 'fg_mask')

    with pytest.raises(FileNotFoundError) as error:
        build(root)
    assert f'{root}/fg_mask/train or {root}/fg_grabcut/train' in str(error.value)


def test_class_folder_missing_from_one_folder(tmp_path):
    root = write_train_root(tmp_path)
    shutil.rmtree(root / 'only_bg_t' / 'train' / '02_wheeled vehicle')

    with pytest.raises(ValueError) as error:
        build(root)
    message = str(error.value)
    assert "'02_wheeled vehicle' is in" in message
    assert f'but not in {root}/only_bg_t/train' in message


def test_stems_missing_from_mask_folder_are_counted_and_named(tmp_path):
    root = write_train_root(tmp_path)
    os.remove(root / 'fg_mask' / 'train' / '00_dog' / 'n001_a.npy')
    os.remove(root / 'fg_mask' / 'train' / '01_bird' / 'n001_b.png')

    with pytest.raises(ValueError) as error:
        build(root)
    message = str(error.value)
    assert f'2 stems of {root}/original/train have no file in {root}/fg_mask/train' in (
        message
    )
    assert '00_dog/n001_a, 01_bird/n001_b' in message


def test_extra_background_without_image_is_reported(tmp_path):
    root = write_train_root(tmp_path)
    extra = root / 'only_bg_t' / 'train' / '01_bird' / 'n999.jpg'
    shutil.copy(root / 'only_bg_t' / 'train' / '01_bird' / 'n001_a.jpg', extra)

    with pytest.raises(ValueError) as error:
        build(root)
    message = str(error.value)
    assert (
        f'1 stems of {root}/only_bg_t/train have no file in {root}/original' in message
    )
    assert '01_bird/n999' in message


def test_empty_class_folder_is_an_error(tmp_path):
    root = write_train_root(tmp_path)
    for folder in ('original', 'fg_mask', 'only_bg_t'):
        (root / folder / 'train' / '03_fish').mkdir()

    with pytest.raises(FileNotFoundError) as error:
        build(root)
    assert f'{root}/original/train/03_fish is empty' in str(error.value)


def test_unexpected_files_are_errors_but_hidden_files_are_ignored(tmp_path):
    root = write_train_root(tmp_path)
    (root / 'original' / 'train' / '00_dog' / '.DS_Store').write_bytes(b'')
    (root / 'only_bg_t' / 'train' / '.hidden_class').mkdir()
    assert len(build(root)) == 6

    (root / 'fg_mask' / 'train' / '01_bird' / 'notes.txt').write_text('x')
    with pytest.raises(ValueError) as error:
        build(root)
    assert f'{root}/fg_mask/train/01_bird holds 1 entries' in str(error.value)
    assert 'notes.txt' in str(error.value)


def test_two_files_with_one_stem_are_ambiguous(tmp_path):
    root = write_train_root(tmp_path)
    class_dir = root / 'original' / 'train' / '00_dog'
    shutil.copy(class_dir / 'n001_a.JPEG', class_dir / 'n001_a.png')

    with pytest.raises(ValueError, match="two files with the stem 'n001_a'"):
        build(root)


@pytest.mark.parametrize('mask_dirs', [('fg_mask',), ('fg_grabcut',)])
def test_pipeline_loads_image_mask_and_background(tmp_path, mask_dirs):
    root = write_train_root(tmp_path, mask_dirs=mask_dirs)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadForegroundMask'),
        dict(type='LoadBackgroundFromFile'),
        dict(type='PackInputs', algorithm_keys=('fg_mask', 'bg_img')),
    ]
    dataset = build(root, pipeline=pipeline, serialize_data=True)

    sorted_stems = sorted(STEMS)
    for index in range(len(dataset)):
        label, stem = divmod(index, len(STEMS))
        sample = dataset[index]
        data_sample = sample['data_samples']
        assert sample['inputs'].shape == (3, HEIGHT, WIDTH)
        assert data_sample.gt_label.tolist() == [label]
        drawn = object_mask(label, STEMS.index(sorted_stems[stem]))
        np.testing.assert_array_equal(data_sample.fg_mask, drawn)
        background = cv2.imread(dataset.get_data_info(index)['bg_path'])
        np.testing.assert_array_equal(data_sample.bg_img, background)
