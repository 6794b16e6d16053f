"""The class-disjoint retrieval datasets read the official CUB-200-2011,
Cars196 and Stanford Online Products layouts, written here in miniature
(the real numbers of classes, one or two images each)."""

import os
import re

import cv2
import numpy as np
import pytest
import scipy.io
from mmpretrain.registry import DATASETS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.datasets import (
    Cars196RetrievalDataset,
    CUBRetrievalDataset,
    SeededIndex,
    SOPRetrievalDataset,
)
from clad_mm.utils.errors import MissingFileError, UserError

JPEG = cv2.imencode('.jpg', np.full((4, 6, 3), 128, np.uint8))[1].tobytes()
PNG = cv2.imencode('.png', np.full((4, 6), 255, np.uint8))[1].tobytes()


def write_bytes(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(line + '\n' for line in lines), encoding='utf-8')


# ---------------------------------------------------------------- CUB


def cub_folder(class_id):
    """The class folder (and name) of CUB class ``class_id`` in the layout."""
    special = {7: '007.Black footed Albatross', 150: '150.Ćmielów warbler'}
    return special.get(class_id, f'{class_id:03d}.Bird_{class_id}')


def cub_relpath(class_id):
    return f'{cub_folder(class_id)}/{cub_folder(class_id)}_0001.jpg'


def write_cub(root, segmentations=False):
    """200 classes x 1 image; image ids run backwards so that file order and
    id order differ."""
    image_lines, label_lines, split_lines, box_lines = [], [], [], []
    for class_id in range(1, 201):
        image_id = 201 - class_id
        image_lines.append(f'{image_id} {cub_relpath(class_id)}')
        label_lines.append(f'{image_id} {class_id}')
        # The classification split must not be read: mark everything train.
        split_lines.append(f'{image_id} 1')
        box_lines.append(f'{image_id} 1.0 2.0 3.0 4.0')
        write_bytes(root / 'images' / cub_relpath(class_id), JPEG)
        if segmentations:
            mask = cub_relpath(class_id)[: -len('.jpg')] + '.png'
            write_bytes(root / 'segmentations' / mask, PNG)
    write_lines(root / 'images.txt', image_lines)
    write_lines(root / 'classes.txt', [f'{i} {cub_folder(i)}' for i in range(1, 201)])
    write_lines(root / 'image_class_labels.txt', label_lines)
    write_lines(root / 'train_test_split.txt', split_lines)
    write_lines(root / 'bounding_boxes.txt', box_lines)
    return root


@pytest.fixture
def cub_root(tmp_path):
    return write_cub(tmp_path / 'CUB_200_2011')


@pytest.mark.parametrize(
    'split, class_ids', [('train', range(1, 101)), ('test', range(101, 201))]
)
def test_cub_splits_by_class_not_by_classification_split(cub_root, split, class_ids):
    dataset = CUBRetrievalDataset(str(cub_root), split)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [info['class_id'] for info in infos] == list(class_ids)
    assert [info['gt_label'] for info in infos] == list(range(100))
    assert [info['img_path'] for info in infos] == [
        os.path.join(str(cub_root), 'images', cub_relpath(i)) for i in class_ids
    ]
    assert dataset.metainfo['classes'] == tuple(cub_folder(i) for i in class_ids)
    assert 'mask_path' not in infos[0]


def test_cub_keeps_class_names_with_spaces_and_unicode(cub_root):
    train = CUBRetrievalDataset(str(cub_root), 'train')
    test = CUBRetrievalDataset(str(cub_root), 'test')
    assert train.metainfo['classes'][6] == '007.Black footed Albatross'
    assert test.metainfo['classes'][49] == '150.Ćmielów warbler'
    assert os.path.isfile(test.get_data_info(49)['img_path'])


def test_cub_val_carve_out_takes_the_last_train_classes(cub_root):
    splits = {
        split: CUBRetrievalDataset(str(cub_root), split, val_classes=25)
        for split in ('train', 'val', 'test')
    }
    class_ids = {
        split: [info['class_id'] for info in dataset.load_data_list()]
        for split, dataset in splits.items()
    }
    assert class_ids == {
        'train': list(range(1, 76)),
        'val': list(range(76, 101)),
        'test': list(range(101, 201)),
    }
    assert splits['val'].get_gt_labels().tolist() == list(range(25))
    assert splits['val'].metainfo['classes'][0] == '076.Bird_76'


def test_val_needs_a_carve_out(cub_root):
    with pytest.raises(UserError, match='val_classes'):
        CUBRetrievalDataset(str(cub_root), 'val')


def test_a_carve_out_must_leave_train_classes(cub_root):
    with pytest.raises(UserError, match='val_classes=100 would leave no training'):
        CUBRetrievalDataset(str(cub_root), 'train', val_classes=100)


def test_unknown_split_is_an_error(cub_root):
    with pytest.raises(UserError, match="got 'validation'"):
        CUBRetrievalDataset(str(cub_root), 'validation')


def test_cub_missing_annotation_file_names_it_and_the_layout(cub_root):
    (cub_root / 'image_class_labels.txt').unlink()
    with pytest.raises(MissingFileError) as error:
        CUBRetrievalDataset(str(cub_root), 'train')
    message = str(error.value)
    assert str(cub_root / 'image_class_labels.txt') in message
    assert 'CUB_200_2011 folder holding images.txt' in message


def test_cub_malformed_line_names_file_and_line(cub_root):
    lines = (cub_root / 'images.txt').read_text().splitlines()
    lines[2] = 'three 003.Bird_3/x.jpg'
    write_lines(cub_root / 'images.txt', lines)
    with pytest.raises(UserError, match=r'images\.txt, line 3: the image id'):
        CUBRetrievalDataset(str(cub_root), 'test')


def test_cub_label_of_unknown_class_is_an_error(cub_root):
    lines = (cub_root / 'image_class_labels.txt').read_text().splitlines()
    lines[0] = lines[0].split()[0] + ' 201'
    write_lines(cub_root / 'image_class_labels.txt', lines)
    with pytest.raises(UserError, match=r'line 1: class 201 is not listed in'):
        CUBRetrievalDataset(str(cub_root), 'test')


def test_missing_images_are_counted_and_three_named(cub_root):
    for class_id in (3, 5, 8, 9):
        (cub_root / 'images' / cub_relpath(class_id)).unlink()
    with pytest.raises(MissingFileError, match='images listed') as error:
        CUBRetrievalDataset(str(cub_root), 'train')
    message = str(error.value)
    assert ', 4: ' in message
    named = [i for i in (3, 5, 8, 9) if cub_relpath(i) in message]
    assert named == [3, 5, 8]
    # The test classes are complete, so that split still loads.
    assert len(CUBRetrievalDataset(str(cub_root), 'test')) == 100


@pytest.mark.parametrize('absolute', [False, True])
def test_masks_root_pairs_each_image_with_its_png(tmp_path, absolute):
    root = write_cub(tmp_path / 'CUB_200_2011', segmentations=True)
    masks_root = str(root / 'segmentations') if absolute else 'segmentations'
    dataset = CUBRetrievalDataset(str(root), 'test', masks_root=masks_root)
    info = dataset.get_data_info(0)
    assert info['class_id'] == 101
    assert info['mask_path'] == os.path.join(
        str(root), 'segmentations', '101.Bird_101', '101.Bird_101_0001.png'
    )


def test_missing_masks_are_counted_and_three_named(tmp_path):
    root = write_cub(tmp_path / 'CUB_200_2011', segmentations=True)
    gone = (120, 130, 140, 150, 160)
    for class_id in gone:
        relpath = cub_relpath(class_id)[: -len('.jpg')] + '.png'
        (root / 'segmentations' / relpath).unlink()
    # Only the split's own masks are needed.
    assert len(CUBRetrievalDataset(str(root), 'train', masks_root='segmentations'))
    with pytest.raises(MissingFileError, match='masks of images') as error:
        CUBRetrievalDataset(str(root), 'test', masks_root='segmentations')
    message = str(error.value)
    assert ', 5: ' in message
    assert [i for i in gone if cub_folder(i) in message] == [120, 130, 140]


# ---------------------------------------------------------------- Cars196

CARS_UNICODE_CLASS = 120
CARS_CLASS_NAMES = [
    'Ćmielów vase' if class_id == CARS_UNICODE_CLASS else f'Car Model {class_id}'
    for class_id in range(1, 197)
]
#: Two images per class, one in each official split: (class id, is test).
CARS_IMAGES = [(class_id, is_test) for class_id in range(1, 197) for is_test in (0, 1)]


def mat_struct_array(records, fields):
    """A 1xN MATLAB struct array, each field a 1x1 (or 1-char-row) value."""
    array = np.zeros((1, len(records)), dtype=[(field, 'O') for field in fields])
    for index, record in enumerate(records):
        array[0, index] = tuple(
            value if isinstance(value, str) else np.array([[value]], np.uint16)
            for value in record
        )
    return array


def mat_cell_row(names):
    cells = np.empty((1, len(names)), dtype=object)
    cells[0, :] = names
    return cells


def write_cars_annos(root, fields=None):
    records, default_fields = (
        [],
        (
            'relative_im_path',
            'bbox_x1',
            'bbox_y1',
            'bbox_x2',
            'bbox_y2',
            'class',
            'test',
        ),
    )
    for number, (class_id, is_test) in enumerate(CARS_IMAGES, start=1):
        relpath = f'car_ims/{number:06d}.jpg'
        write_bytes(root / relpath, JPEG)
        records.append((relpath, 1, 2, 30, 40, class_id, is_test))
    fields = fields or default_fields
    records = [record[: len(fields)] for record in records]
    scipy.io.savemat(
        root / 'cars_annos.mat',
        {
            'annotations': mat_struct_array(records, fields),
            'class_names': mat_cell_row(CARS_CLASS_NAMES),
        },
    )
    return root


def write_cars_devkit(root):
    """The same images as :func:`write_cars_annos`, in the devkit layout:
    returns ``{devkit relpath: cars_annos relpath}``."""
    counterparts = {}
    records = {0: [], 1: []}
    for number, (class_id, is_test) in enumerate(CARS_IMAGES, start=1):
        folder = 'cars_test' if is_test else 'cars_train'
        fname = f'{len(records[is_test]) + 1:05d}.jpg'
        write_bytes(root / folder / fname, JPEG)
        records[is_test].append((1, 2, 30, 40, class_id, fname))
        counterparts[f'{folder}/{fname}'] = f'car_ims/{number:06d}.jpg'
    fields = ('bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'class', 'fname')
    (root / 'devkit').mkdir()
    for is_test, name in ((0, 'cars_train_annos'), (1, 'cars_test_annos_withlabels')):
        scipy.io.savemat(
            root / 'devkit' / f'{name}.mat',
            {'annotations': mat_struct_array(records[is_test], fields)},
        )
    scipy.io.savemat(
        root / 'devkit' / 'cars_meta.mat',
        {'class_names': mat_cell_row(CARS_CLASS_NAMES)},
    )
    return counterparts


def test_written_mat_files_nest_as_the_release(tmp_path):
    write_cars_annos(tmp_path)
    contents = scipy.io.loadmat(tmp_path / 'cars_annos.mat')
    annotations = contents['annotations']
    assert annotations.shape == (1, 392)
    assert annotations[0, 0]['relative_im_path'].tolist() == ['car_ims/000001.jpg']
    assert annotations[0, 0]['class'].shape == (1, 1)
    assert contents['class_names'].shape == (1, 196)
    assert contents['class_names'][0, 119].tolist() == ['Ćmielów vase']


@pytest.mark.parametrize(
    'split, class_ids', [('train', range(1, 99)), ('test', range(99, 197))]
)
def test_cars_pools_official_splits_and_splits_by_class(tmp_path, split, class_ids):
    write_cars_annos(tmp_path)
    dataset = Cars196RetrievalDataset(str(tmp_path), split)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    # Both images of each class, its official training and test image.
    assert [info['class_id'] for info in infos] == [i for i in class_ids for _ in '01']
    assert [info['gt_label'] for info in infos] == [i for i in range(98) for _ in '01']
    assert dataset.metainfo['classes'] == tuple(
        f'Car Model {i}' if i != CARS_UNICODE_CLASS else 'Ćmielów vase'
        for i in class_ids
    )
    first = 2 * (class_ids[0] - 1) + 1
    assert infos[0]['img_path'] == os.path.join(
        str(tmp_path), 'car_ims', f'{first:06d}.jpg'
    )


def test_cars_class_names_keep_unicode(tmp_path):
    write_cars_annos(tmp_path)
    test = Cars196RetrievalDataset(str(tmp_path), 'test')
    # Class 120 is label 120 - 99 = 21 of the test split.
    assert test.metainfo['classes'][21] == 'Ćmielów vase'


@pytest.mark.parametrize('annotation_layout', ['auto', 'devkit'])
def test_cars_layouts_give_the_same_items(tmp_path, annotation_layout):
    annos_root, devkit_root = tmp_path / 'annos', tmp_path / 'devkit_layout'
    write_cars_annos(annos_root)
    counterparts = write_cars_devkit(devkit_root)
    for split in ('train', 'val', 'test'):
        reference = Cars196RetrievalDataset(str(annos_root), split, val_classes=10)
        devkit = Cars196RetrievalDataset(
            str(devkit_root),
            split,
            val_classes=10,
            annotation_layout=annotation_layout,
        )
        assert devkit.metainfo == reference.metainfo
        assert len(devkit) == len(reference)
        for index in range(len(reference)):
            expected, got = reference.get_data_info(index), devkit.get_data_info(index)
            relpath = os.path.relpath(got.pop('img_path'), str(devkit_root))
            assert os.path.join(str(annos_root), counterparts[relpath]) == (
                expected.pop('img_path')
            )
            assert got == expected


def test_cars_explicit_layout_without_its_files(tmp_path):
    write_cars_annos(tmp_path)
    with pytest.raises(MissingFileError, match=r'cars_meta\.mat does not exist'):
        Cars196RetrievalDataset(str(tmp_path), 'train', annotation_layout='devkit')
    with pytest.raises(UserError, match='annotation_layout must be one of'):
        Cars196RetrievalDataset(str(tmp_path), 'train', annotation_layout='csv')


def test_cars_without_either_layout_names_both(tmp_path):
    with pytest.raises(MissingFileError) as error:
        Cars196RetrievalDataset(str(tmp_path), 'train')
    message = str(error.value)
    assert 'cars_annos.mat' in message
    assert 'devkit/cars_train_annos.mat' in message


def test_cars_mat_without_the_fields_names_file_and_fields(tmp_path):
    write_cars_annos(tmp_path, fields=('relative_im_path', 'bbox_x1'))
    with pytest.raises(UserError) as error:
        Cars196RetrievalDataset(str(tmp_path), 'train')
    message = str(error.value)
    assert str(tmp_path / 'cars_annos.mat') in message
    assert "['relative_im_path', 'bbox_x1']" in message


def test_cars_missing_images_are_named(tmp_path):
    write_cars_annos(tmp_path)
    (tmp_path / 'car_ims' / '000002.jpg').unlink()
    with pytest.raises(MissingFileError, match=r', 1: .*000002\.jpg'):
        Cars196RetrievalDataset(str(tmp_path), 'train')


# ---------------------------------------------------------------- SOP

SOP_HEADER = 'image_id class_id super_class_id path'
#: (class id, super class id, super class folder, number of images).
SOP_TRAIN = [
    (1, 1, 'bicycle_final', 2),
    (2, 1, 'bicycle_final', 1),
    (5, 2, 'chair_final', 3),
    (8, 2, 'chair_final', 1),
]
SOP_TEST = [
    (3, 1, 'bicycle_final', 1),
    (4, 2, 'chair_final', 2),
    (9, 2, 'chair_final', 1),
]


def sop_relpath(class_id, index):
    return f'{class_id:04d}{index}_0.JPG'


def write_sop(root):
    for name, classes in (('Ebay_train.txt', SOP_TRAIN), ('Ebay_test.txt', SOP_TEST)):
        lines = [SOP_HEADER]
        for class_id, super_id, folder, count in classes:
            for index in range(count):
                relpath = f'{folder}/{sop_relpath(class_id, index)}'
                write_bytes(root / relpath, JPEG)
                lines.append(f'{len(lines)} {class_id} {super_id} {relpath}')
        write_lines(root / name, lines)
    return root


@pytest.fixture
def sop_root(tmp_path):
    return write_sop(tmp_path / 'Stanford_Online_Products')


def test_sop_reads_each_split_file(sop_root):
    train = SOPRetrievalDataset(str(sop_root), 'train')
    assert [train.get_data_info(i)['class_id'] for i in range(len(train))] == [
        1,
        1,
        2,
        5,
        5,
        5,
        8,
    ]
    assert train.get_gt_labels().tolist() == [0, 0, 1, 2, 2, 2, 3]
    assert train.metainfo['classes'] == (
        'bicycle_final/1',
        'bicycle_final/2',
        'chair_final/5',
        'chair_final/8',
    )
    assert train.get_data_info(3)['img_path'] == os.path.join(
        str(sop_root), 'chair_final', '00050_0.JPG'
    )
    test = SOPRetrievalDataset(str(sop_root), 'test')
    assert test.metainfo['classes'] == (
        'bicycle_final/3',
        'chair_final/4',
        'chair_final/9',
    )
    assert test.get_gt_labels().tolist() == [0, 1, 1, 2]


def test_sop_val_carve_out_takes_the_last_train_class_ids(sop_root):
    train = SOPRetrievalDataset(str(sop_root), 'train', val_classes=2)
    val = SOPRetrievalDataset(str(sop_root), 'val', val_classes=2)
    assert train.metainfo['classes'] == ('bicycle_final/1', 'bicycle_final/2')
    assert len(train) == 3
    assert val.metainfo['classes'] == ('chair_final/5', 'chair_final/8')
    assert val.get_gt_labels().tolist() == [0, 0, 0, 1]


def test_sop_wrong_header_names_file_and_expected_header(sop_root):
    lines = (sop_root / 'Ebay_test.txt').read_text().splitlines()
    write_lines(sop_root / 'Ebay_test.txt', ['image_id class_id path', *lines[1:]])
    with pytest.raises(UserError) as error:
        SOPRetrievalDataset(str(sop_root), 'test')
    message = str(error.value)
    assert 'Ebay_test.txt, line 1' in message
    assert repr(SOP_HEADER) in message


def test_sop_malformed_line_names_file_and_line(sop_root):
    lines = (sop_root / 'Ebay_train.txt').read_text().splitlines()
    lines[4] = '4 5 2'
    write_lines(sop_root / 'Ebay_train.txt', lines)
    with pytest.raises(UserError, match=r'Ebay_train\.txt, line 5: expected'):
        SOPRetrievalDataset(str(sop_root), 'train')


def test_sop_splits_must_not_share_classes(sop_root):
    lines = (sop_root / 'Ebay_test.txt').read_text().splitlines()
    lines.append(f'9 8 2 chair_final/{sop_relpath(8, 0)}')
    write_lines(sop_root / 'Ebay_test.txt', lines)
    with pytest.raises(UserError, match=r'share class ids, 1: 8'):
        SOPRetrievalDataset(str(sop_root), 'test')


def test_sop_missing_file_names_it_and_the_layout(sop_root):
    (sop_root / 'Ebay_train.txt').unlink()
    with pytest.raises(MissingFileError) as error:
        SOPRetrievalDataset(str(sop_root), 'test')
    assert str(sop_root / 'Ebay_train.txt') in str(error.value)
    assert 'Stanford_Online_Products folder' in str(error.value)


# ---------------------------------------------------- background draws


def test_background_draws_append_seeded_copies(sop_root):
    clean = SOPRetrievalDataset(str(sop_root), 'train')
    drawn = SOPRetrievalDataset(
        str(sop_root), 'train', background_draws=3, background_seed=7
    )
    n = 7
    assert len(clean) == n
    assert len(drawn) == 4 * n
    infos = [drawn.get_data_info(i) for i in range(len(drawn))]
    assert [info['bg_draw'] for info in infos] == [-1] * n + [0] * n + [1] * n + [2] * n
    # Without draws no sample is a "clean copy": BGAugment must augment it.
    assert not any(
        {'bg_draw', 'bg_seed'} & set(clean.get_data_info(i)) for i in range(n)
    )
    for index in range(n):
        copies = [infos[draw * n + index] for draw in range(4)]
        for key in ('img_path', 'gt_label', 'class_id'):
            assert {info[key] for info in copies} == {copies[0][key]}
    seeds = [info['bg_seed'] for info in infos]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= seed < 2**32 for seed in seeds)
    again = SOPRetrievalDataset(
        str(sop_root), 'train', background_draws=3, background_seed=7
    )
    assert [again.get_data_info(i)['bg_seed'] for i in range(len(again))] == seeds
    other = SOPRetrievalDataset(
        str(sop_root), 'train', background_draws=3, background_seed=8
    )
    assert [other.get_data_info(i)['bg_seed'] for i in range(len(other))] != seeds


@pytest.mark.parametrize(
    'key, value', [('background_draws', -1), ('background_seed', 1.5)]
)
def test_invalid_background_arguments(sop_root, key, value):
    with pytest.raises(UserError, match=re.escape(f'{key} must be an integer')):
        SOPRetrievalDataset(str(sop_root), 'test', **{key: value})


# ---------------------------------------------------------------- building


def test_each_dataset_builds_from_a_config(tmp_path):
    roots = {
        'CUBRetrievalDataset': write_cub(tmp_path / 'cub'),
        'Cars196RetrievalDataset': write_cars_annos(tmp_path / 'cars'),
        'SOPRetrievalDataset': write_sop(tmp_path / 'sop'),
    }
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    for type_name, root in roots.items():
        dataset = DATASETS.build(
            dict(type=type_name, data_root=str(root), split='test', pipeline=pipeline)
        )
        assert type(dataset).__name__ == type_name
        sample = dataset[SeededIndex(0, 3)]
        assert tuple(sample['inputs'].shape) == (3, 4, 6)
        assert sample['data_samples'].gt_label.tolist() == [0]


def test_lazy_init_reads_nothing_until_full_init(tmp_path):
    dataset = SOPRetrievalDataset(str(tmp_path / 'absent'), 'train', lazy_init=True)
    with pytest.raises(MissingFileError, match='Ebay_train.txt does not exist'):
        dataset.full_init()


def test_configured_class_names_must_match_the_split(sop_root):
    dataset = SOPRetrievalDataset(str(sop_root), 'test', classes=['a', 'b', 'c'])
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')
    with pytest.raises(UserError, match='2 class names are configured'):
        SOPRetrievalDataset(str(sop_root), 'test', classes=['a', 'b'])
