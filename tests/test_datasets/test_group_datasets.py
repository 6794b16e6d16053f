"""The group-labelled datasets read the Waterbirds, CelebA (official txt and
CSV copies) and generic CSV layouts, written here in miniature; every
expected label, group and count is written out by hand from the rows."""

import os

import cv2
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.datasets import (
    CelebADataset,
    GroupCSVDataset,
    SeededIndex,
    WaterbirdsDataset,
)
from clad_mm.utils.errors import MissingFileError, UserError

JPEG = cv2.imencode('.jpg', np.full((4, 6, 3), 128, np.uint8))[1].tobytes()


def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(line + '\n' for line in lines), encoding='utf-8')


def write_images(root, relpaths):
    for relpath in relpaths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(JPEG)


def relative_infos(dataset, root):
    """The data infos with ``img_path`` relative to ``root``."""
    infos = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        infos.append(
            (
                os.path.relpath(info['img_path'], root),
                info['gt_label'],
                info['group'],
            )
        )
    return infos


# ---------------------------------------------------------------- Waterbirds

WATERBIRDS_HEADER = 'img_id,img_filename,y,split,place,place_filename'
# (img_filename, y, split, place); the rows mix the splits.
WATERBIRDS_ROWS = [
    ('013.Bobolink/Bobolink_0001.jpg', 0, 0, 0),
    ('086.Pacific_Loon/Loon, Pacific_0010.jpg', 1, 2, 1),
    ('013.Bobolink/Bobolink_0002.jpg', 0, 0, 0),
    ('094.White breasted Nuthatch/Nuthatch_0003.jpg', 0, 0, 0),
    ('094.White breasted Nuthatch/Nuthatch_0004.jpg', 0, 0, 1),
    ('086.Pacific_Loon/Lóón_0008.jpg', 1, 1, 0),
    ('045.Northern_Fulmar/Fulmar_0005.jpg', 1, 0, 0),
    ('045.Northern_Fulmar/Fulmar_0006.jpg', 1, 0, 1),
    ('013.Bobolink/Bobolink_0009.jpg', 0, 1, 1),
    ('045.Northern_Fulmar/Fulmar_0007.jpg', 1, 0, 1),
    ('013.Bobolink/Bobolink_0011.jpg', 0, 2, 0),
    ('094.White breasted Nuthatch/Nuthatch_0012.jpg', 0, 2, 1),
    ('045.Northern_Fulmar/Fulmar_0013.jpg', 1, 2, 0),
]
WATERBIRDS_GROUP_NAMES = (
    'landbird on land',
    'landbird on water',
    'waterbird on land',
    'waterbird on water',
)


def waterbirds_line(img_id, filename, y, split, place):
    quoted = f'"{filename}"' if ',' in filename else filename
    return f'{img_id},{quoted},{y},{split},{place},/b/bamboo_forest/00{img_id}.jpg'


def write_waterbirds(root, rows=WATERBIRDS_ROWS, header=WATERBIRDS_HEADER):
    lines = [header]
    lines += [waterbirds_line(i, *row) for i, row in enumerate(rows, start=1)]
    write_lines(root / 'metadata.csv', lines)
    write_images(root, [row[0] for row in rows])
    return root


@pytest.fixture
def waterbirds_root(tmp_path):
    return write_waterbirds(tmp_path / 'waterbird_complete95_forest2water2')


@pytest.mark.parametrize(
    'split, expected',
    [
        (
            'train',
            [
                ('013.Bobolink/Bobolink_0001.jpg', 0, 0),
                ('013.Bobolink/Bobolink_0002.jpg', 0, 0),
                ('094.White breasted Nuthatch/Nuthatch_0003.jpg', 0, 0),
                ('094.White breasted Nuthatch/Nuthatch_0004.jpg', 0, 1),
                ('045.Northern_Fulmar/Fulmar_0005.jpg', 1, 2),
                ('045.Northern_Fulmar/Fulmar_0006.jpg', 1, 3),
                ('045.Northern_Fulmar/Fulmar_0007.jpg', 1, 3),
            ],
        ),
        (
            'val',
            [
                ('086.Pacific_Loon/Lóón_0008.jpg', 1, 2),
                ('013.Bobolink/Bobolink_0009.jpg', 0, 1),
            ],
        ),
        (
            'test',
            [
                ('086.Pacific_Loon/Loon, Pacific_0010.jpg', 1, 3),
                ('013.Bobolink/Bobolink_0011.jpg', 0, 0),
                ('094.White breasted Nuthatch/Nuthatch_0012.jpg', 0, 1),
                ('045.Northern_Fulmar/Fulmar_0013.jpg', 1, 2),
            ],
        ),
    ],
)
def test_waterbirds_splits_labels_and_groups(waterbirds_root, split, expected):
    dataset = WaterbirdsDataset(str(waterbirds_root), split)
    assert relative_infos(dataset, waterbirds_root) == expected
    assert all(
        os.path.isfile(dataset.get_data_info(i)['img_path'])
        for i in range(len(dataset))
    )
    assert dataset.metainfo['classes'] == ('landbird', 'waterbird')
    assert dataset.metainfo['group_names'] == WATERBIRDS_GROUP_NAMES
    # Train rows: 3 landbirds on land, 1 on water, 1 waterbird on land, 2 on
    # water -- the same metainfo for every split.
    assert dataset.metainfo['train_group_counts'] == (3, 1, 1, 2)


def test_indices_leave_the_train_group_counts(waterbirds_root):
    dataset = WaterbirdsDataset(str(waterbirds_root), 'test', indices=1)
    assert len(dataset) == 1
    assert dataset.metainfo['train_group_counts'] == (3, 1, 1, 2)


def test_waterbirds_builds_from_config_and_packs_the_group(waterbirds_root):
    dataset = DATASETS.build(
        dict(
            type='WaterbirdsDataset',
            data_root=str(waterbirds_root),
            split='test',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'group')),
            ],
        )
    )
    first = dataset[0]
    assert first['inputs'].shape == (3, 4, 6)
    assert first['data_samples'].group == 3
    assert first['data_samples'].gt_label.tolist() == [1]
    assert first['data_samples'].img_path.endswith('Loon, Pacific_0010.jpg')
    seeded = dataset[SeededIndex(3, 7)]
    assert seeded['data_samples'].group == 2


def test_waterbirds_missing_metadata_names_the_path(tmp_path):
    with pytest.raises(MissingFileError) as error:
        WaterbirdsDataset(str(tmp_path), 'train')
    assert str(tmp_path / 'metadata.csv') in str(error.value)


def test_waterbirds_header_without_place_names_the_column(tmp_path):
    root = tmp_path / 'wb'
    write_lines(
        root / 'metadata.csv',
        ['img_id,img_filename,y,split', '1,013.Bobolink/Bobolink_0001.jpg,0,0'],
    )
    with pytest.raises(UserError, match=r'metadata\.csv.*lacks the column\(s\) place'):
        WaterbirdsDataset(str(root), 'train')


def test_waterbirds_bad_value_names_file_and_line(tmp_path):
    rows = list(WATERBIRDS_ROWS)
    rows[2] = ('013.Bobolink/Bobolink_0002.jpg', 2, 0, 0)  # line 4 of the file
    root = write_waterbirds(tmp_path / 'wb', rows)
    with pytest.raises(UserError, match=r"metadata\.csv, line 4: the y '2'"):
        WaterbirdsDataset(str(root), 'train')


def test_waterbirds_bad_split_code_names_file_and_line(tmp_path):
    rows = list(WATERBIRDS_ROWS)
    rows[0] = ('013.Bobolink/Bobolink_0001.jpg', 0, 3, 0)
    root = write_waterbirds(tmp_path / 'wb', rows)
    with pytest.raises(UserError, match=r"line 2: the split '3' is not one of 0, 1, 2"):
        WaterbirdsDataset(str(root), 'test')


def test_waterbirds_missing_image_is_named(waterbirds_root):
    (waterbirds_root / '013.Bobolink' / 'Bobolink_0009.jpg').unlink()
    WaterbirdsDataset(str(waterbirds_root), 'train')  # not in this split
    with pytest.raises(MissingFileError, match='Bobolink_0009.jpg'):
        WaterbirdsDataset(str(waterbirds_root), 'val')


def test_unknown_split_is_refused(waterbirds_root):
    with pytest.raises(UserError, match='split must be one of'):
        WaterbirdsDataset(str(waterbirds_root), 'validation')
    with pytest.raises(UserError, match='split must be one of'):
        WaterbirdsDataset(str(waterbirds_root), None)


# ---------------------------------------------------------------- CelebA

CELEBA_ATTRIBUTES = (
    '5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs '
    'Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows '
    'Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup '
    'High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard '
    'Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns '
    'Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat '
    'Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young'
).split()
# image -> (attributes set to 1, partition); the others are -1.
CELEBA_ROWS = {
    '000001.jpg': ({'Male', 'Goatee'}, 0),
    '000002.jpg': ({'Blond_Hair', 'Double_Chin'}, 0),
    '000003.jpg': ({'Eyeglasses'}, 0),
    '000004.jpg': ({'Blond_Hair', 'Young'}, 0),
    '000005.jpg': ({'Blond_Hair', 'Male'}, 2),
    '000006.jpg': ({'Male', '5_o_Clock_Shadow'}, 1),
    '000007.jpg': ({'Blond_Hair', 'Male', 'Eyeglasses'}, 0),
    '000008.jpg': ({'Eyeglasses'}, 2),
    '000009.jpg': ({'Blond_Hair'}, 1),
}
CELEBA_GROUP_NAMES = (
    'not Blond_Hair, not Male',
    'not Blond_Hair, Male',
    'Blond_Hair, not Male',
    'Blond_Hair, Male',
)


def attribute_values(present, absent=-1):
    return [1 if name in present else absent for name in CELEBA_ATTRIBUTES]


def write_celeba_txt(root, rows=CELEBA_ROWS, count=None):
    lines = [str(len(rows) if count is None else count)]
    lines.append(' '.join(CELEBA_ATTRIBUTES) + ' ')  # trailing space, as released
    for image, (present, _) in rows.items():
        # Values right-aligned in two characters: "-1  1  1 -1".
        values = ' '.join(f'{v:2d}' for v in attribute_values(present))
        lines.append(f'{image} {values}')
    write_lines(root / 'list_attr_celeba.txt', lines)
    write_lines(
        root / 'list_eval_partition.txt',
        [f'{image} {partition}' for image, (_, partition) in rows.items()],
    )


def write_celeba_csv(root, rows=CELEBA_ROWS, absent=-1):
    lines = ['image_id,' + ','.join(CELEBA_ATTRIBUTES)]
    for image, (present, _) in rows.items():
        lines.append(
            ','.join([image] + [str(v) for v in attribute_values(present, absent)])
        )
    write_lines(root / 'list_attr_celeba.csv', lines)
    write_lines(
        root / 'list_eval_partition.csv',
        ['image_id,partition']
        + [f'{image},{partition}' for image, (_, partition) in rows.items()],
    )


def write_celeba_images(root, rows=CELEBA_ROWS, image_dir='img_align_celeba'):
    write_images(root / image_dir, list(rows))


@pytest.fixture
def celeba_root(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    write_celeba_images(root)
    return root


@pytest.mark.parametrize(
    'split, expected',
    [
        (
            'train',
            [
                ('img_align_celeba/000001.jpg', 0, 1),
                ('img_align_celeba/000002.jpg', 1, 2),
                ('img_align_celeba/000003.jpg', 0, 0),
                ('img_align_celeba/000004.jpg', 1, 2),
                ('img_align_celeba/000007.jpg', 1, 3),
            ],
        ),
        (
            'val',
            [
                ('img_align_celeba/000006.jpg', 0, 1),
                ('img_align_celeba/000009.jpg', 1, 2),
            ],
        ),
        (
            'test',
            [
                ('img_align_celeba/000005.jpg', 1, 3),
                ('img_align_celeba/000008.jpg', 0, 0),
            ],
        ),
    ],
)
def test_celeba_txt_splits_labels_and_groups(celeba_root, split, expected):
    dataset = CelebADataset(str(celeba_root), split)
    assert relative_infos(dataset, celeba_root) == expected
    assert dataset.metainfo['classes'] == ('not Blond_Hair', 'Blond_Hair')
    assert dataset.metainfo['group_names'] == CELEBA_GROUP_NAMES
    # Train images 3 / 1 / 2, 4 / 7.
    assert dataset.metainfo['train_group_counts'] == (1, 1, 2, 1)


def test_celeba_other_attributes_pick_their_columns(celeba_root):
    dataset = CelebADataset(
        str(celeba_root),
        'train',
        target_attribute='Eyeglasses',
        bias_attribute='Blond_Hair',
    )
    # Eyeglasses on 3 and 7; Blond_Hair on 2, 4 and 7. Goatee (after
    # Eyeglasses) is on 1, Double_Chin (before it) on 2.
    assert relative_infos(dataset, celeba_root) == [
        ('img_align_celeba/000001.jpg', 0, 0),
        ('img_align_celeba/000002.jpg', 0, 1),
        ('img_align_celeba/000003.jpg', 1, 2),
        ('img_align_celeba/000004.jpg', 0, 1),
        ('img_align_celeba/000007.jpg', 1, 3),
    ]
    assert dataset.metainfo['classes'] == ('not Eyeglasses', 'Eyeglasses')
    assert dataset.metainfo['group_names'] == (
        'not Eyeglasses, not Blond_Hair',
        'not Eyeglasses, Blond_Hair',
        'Eyeglasses, not Blond_Hair',
        'Eyeglasses, Blond_Hair',
    )
    assert dataset.metainfo['train_group_counts'] == (1, 2, 1, 1)


@pytest.mark.parametrize('absent', [-1, 0])
def test_celeba_csv_copies_give_the_txt_items(celeba_root, absent):
    write_celeba_csv(celeba_root, absent=absent)
    for split in ('train', 'val', 'test'):
        from_txt = CelebADataset(str(celeba_root), split, annotation_format='txt')
        from_csv = CelebADataset(str(celeba_root), split, annotation_format='csv')
        assert from_csv.load_data_list() == from_txt.load_data_list()
        assert from_csv.metainfo == from_txt.metainfo


def test_celeba_auto_reads_the_csv_copies_without_txt(tmp_path):
    root = tmp_path / 'kaggle'
    write_celeba_csv(root)
    write_celeba_images(root, image_dir='img_align_celeba/img_align_celeba')
    dataset = CelebADataset(
        str(root), 'test', image_dir='img_align_celeba/img_align_celeba'
    )
    assert relative_infos(dataset, root) == [
        ('img_align_celeba/img_align_celeba/000005.jpg', 1, 3),
        ('img_align_celeba/img_align_celeba/000008.jpg', 0, 0),
    ]
    assert dataset.metainfo['train_group_counts'] == (1, 1, 2, 1)


@pytest.mark.parametrize('annotation_format', ['txt', 'csv'])
def test_celeba_unknown_attribute_lists_the_40(celeba_root, annotation_format):
    write_celeba_csv(celeba_root)
    with pytest.raises(UserError) as error:
        CelebADataset(
            str(celeba_root),
            'train',
            target_attribute='Blonde_Hair',
            annotation_format=annotation_format,
        )
    message = str(error.value)
    assert "'Blonde_Hair'" in message
    assert f'list_attr_celeba.{annotation_format}' in message
    assert 'its 40 attributes are 5_o_Clock_Shadow, Arched_Eyebrows' in message
    assert message.endswith('Wearing_Necktie, Young')


def test_celeba_bad_txt_value_names_file_and_line(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    path = root / 'list_attr_celeba.txt'
    lines = path.read_text(encoding='utf-8').splitlines()
    values = attribute_values({'Blond_Hair', 'Young'})
    values[CELEBA_ATTRIBUTES.index('Male')] = 2
    lines[5] = '000004.jpg ' + ' '.join(f'{v:2d}' for v in values)
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with pytest.raises(
        UserError,
        match=r"list_attr_celeba\.txt, line 6: the Male value '2' is not one of "
        '-1, 0, 1',
    ):
        CelebADataset(str(root), 'train')


def test_celeba_bad_csv_value_names_file_and_line(tmp_path):
    root = tmp_path / 'celeba'
    rows = dict(CELEBA_ROWS)
    write_celeba_csv(root, rows)
    path = root / 'list_attr_celeba.csv'
    lines = path.read_text(encoding='utf-8').splitlines()
    fields = lines[3].split(',')
    fields[1 + CELEBA_ATTRIBUTES.index('Male')] = 'yes'
    lines[3] = ','.join(fields)
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with pytest.raises(
        UserError,
        match=r"list_attr_celeba\.csv, line 4: the Male value 'yes' is not one of "
        '-1, 0, 1',
    ):
        CelebADataset(str(root), 'train')


def test_celeba_row_with_missing_values_names_the_line(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    path = root / 'list_attr_celeba.txt'
    lines = path.read_text(encoding='utf-8').splitlines()
    lines[3] = lines[3].rsplit(' ', 1)[0]  # 000002.jpg loses Young
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with pytest.raises(UserError, match=r'line 4: expected an image and 40'):
        CelebADataset(str(root), 'train')


def test_celeba_image_count_must_match(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root, count=202599)
    with pytest.raises(UserError, match='line 1 gives 202599 images but 9'):
        CelebADataset(str(root), 'train')


def test_celeba_bad_partition_names_file_and_line(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    write_lines(
        root / 'list_eval_partition.txt',
        [f'{image} {"3" if image == "000002.jpg" else "0"}' for image in CELEBA_ROWS],
    )
    with pytest.raises(
        UserError, match=r"list_eval_partition\.txt, line 2: the partition '3'"
    ):
        CelebADataset(str(root), 'train')


def test_celeba_partition_must_list_every_image(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    write_lines(root / 'list_eval_partition.txt', ['000001.jpg 0'])
    with pytest.raises(
        UserError, match=r'list_eval_partition\.txt lacks images .* 8: 000002.jpg'
    ):
        CelebADataset(str(root), 'train')


def test_celeba_missing_files_name_the_expected_paths(tmp_path):
    root = tmp_path / 'celeba'
    root.mkdir()
    with pytest.raises(MissingFileError) as error:
        CelebADataset(str(root), 'train')
    assert 'list_attr_celeba.txt' in str(error.value)
    assert 'list_attr_celeba.csv' in str(error.value)
    write_celeba_txt(root)
    (root / 'list_eval_partition.txt').unlink()
    with pytest.raises(MissingFileError) as error:
        CelebADataset(str(root), 'train')
    assert str(root / 'list_eval_partition.txt') in str(error.value)
    with pytest.raises(MissingFileError) as error:
        CelebADataset(str(root), 'train', annotation_format='csv')
    assert str(root / 'list_attr_celeba.csv') in str(error.value)


def test_celeba_missing_image_is_named(tmp_path):
    root = tmp_path / 'celeba'
    write_celeba_txt(root)
    with pytest.raises(MissingFileError, match=r'img_align_celeba.000005\.jpg'):
        CelebADataset(str(root), 'test')


def test_celeba_arguments_are_checked(celeba_root):
    with pytest.raises(UserError, match='annotation_format must be one of'):
        CelebADataset(str(celeba_root), 'train', annotation_format='json')
    with pytest.raises(UserError, match="both 'Male'"):
        CelebADataset(str(celeba_root), 'train', target_attribute='Male')


# ---------------------------------------------------------------- generic CSV

# Columns in another order, an ignored column, a quoted path with a comma.
GROUP_CSV = [
    'split,group,path,label,note',
    'train,0,"a, b/img 1.jpg",0,first',
    'train,1,imgs/ü 2.jpg,0,',
    'val,2,imgs/3.jpg,1,',
    'train,3,imgs/4.jpg,1,',
    'test,3,imgs/5.jpg,1,',
    'train,1,imgs/6.jpg,0,',
]
GROUP_CSV_IMAGES = [
    'a, b/img 1.jpg',
    'imgs/ü 2.jpg',
    'imgs/3.jpg',
    'imgs/4.jpg',
    'imgs/5.jpg',
    'imgs/6.jpg',
]


@pytest.fixture
def csv_root(tmp_path):
    root = tmp_path / 'mine'
    write_lines(root / 'groups.csv', GROUP_CSV)
    write_images(root, GROUP_CSV_IMAGES)
    return root


def test_group_csv_splits_and_default_names(csv_root):
    train = GroupCSVDataset(str(csv_root), 'groups.csv', split='train')
    assert relative_infos(train, csv_root) == [
        ('a, b/img 1.jpg', 0, 0),
        ('imgs/ü 2.jpg', 0, 1),
        ('imgs/4.jpg', 1, 3),
        ('imgs/6.jpg', 0, 1),
    ]
    assert train.metainfo['classes'] == ('class 0', 'class 1')
    assert train.metainfo['group_names'] == ('group 0', 'group 1', 'group 2', 'group 3')
    assert train.metainfo['train_group_counts'] == (1, 2, 0, 1)
    val = GroupCSVDataset(str(csv_root), 'groups.csv', split='val')
    assert relative_infos(val, csv_root) == [('imgs/3.jpg', 1, 2)]
    assert val.metainfo['train_group_counts'] == (1, 2, 0, 1)
    every = GroupCSVDataset(str(csv_root), str(csv_root / 'groups.csv'))
    assert len(every) == 6


def test_group_csv_configured_names(csv_root):
    dataset = GroupCSVDataset(
        str(csv_root),
        'groups.csv',
        split='test',
        classes=('cat', 'dog'),
        group_names=('cat indoors', 'cat outdoors', 'dog indoors', 'dog outdoors'),
    )
    assert relative_infos(dataset, csv_root) == [('imgs/5.jpg', 1, 3)]
    assert dataset.metainfo['classes'] == ('cat', 'dog')
    assert dataset.metainfo['group_names'][3] == 'dog outdoors'


def test_group_csv_without_split_column_is_one_split(tmp_path):
    root = tmp_path / 'mine'
    write_lines(
        root / 'groups.csv',
        ['path,label,group', 'x/1.jpg,1,1', 'x/2.jpg,0,0', 'x/3.jpg,1,1'],
    )
    write_images(root, ['x/1.jpg', 'x/2.jpg', 'x/3.jpg'])
    dataset = GroupCSVDataset(str(root), 'groups.csv')
    assert relative_infos(dataset, root) == [
        ('x/1.jpg', 1, 1),
        ('x/2.jpg', 0, 0),
        ('x/3.jpg', 1, 1),
    ]
    assert dataset.metainfo['train_group_counts'] == (1, 2)
    with pytest.raises(UserError, match=r'groups\.csv has no split column'):
        GroupCSVDataset(str(root), 'groups.csv', split='test')


@pytest.mark.parametrize(
    'row, message',
    [
        ('train,-1,imgs/6.jpg,0,', r"line 7: the group '-1' is not an integer >= 0"),
        ('train,1,imgs/6.jpg,dog,', r"line 7: the label 'dog' is not an integer"),
        ('training,1,imgs/6.jpg,0,', r"line 7: the split 'training' is not one of"),
        ('train,1,imgs/6.jpg,0', r'line 7: expected the 5 fields of the header, got 4'),
    ],
)
def test_group_csv_bad_row_names_file_and_line(csv_root, row, message):
    write_lines(csv_root / 'groups.csv', GROUP_CSV[:-1] + [row])
    with pytest.raises(UserError, match=r'groups\.csv, ' + message):
        GroupCSVDataset(str(csv_root), 'groups.csv', split='train')


def test_group_csv_label_beyond_configured_names(csv_root):
    with pytest.raises(
        UserError, match=r'groups\.csv, line 5: the group 3 has no name'
    ):
        GroupCSVDataset(
            str(csv_root),
            'groups.csv',
            group_names=('a', 'b', 'c'),
        )


def test_group_csv_bad_header_and_missing_file(csv_root):
    write_lines(csv_root / 'bad.csv', ['file,label,group', 'x.jpg,0,0'])
    with pytest.raises(
        UserError,
        match=r"bad\.csv: the header 'file,label,group' "
        'lacks the column\\(s\\) path',
    ):
        GroupCSVDataset(str(csv_root), 'bad.csv')
    with pytest.raises(MissingFileError) as error:
        GroupCSVDataset(str(csv_root), 'absent.csv')
    assert str(csv_root / 'absent.csv') in str(error.value)


def test_group_csv_needs_train_rows_for_the_counts(csv_root):
    write_lines(
        csv_root / 'test_only.csv', ['path,label,group,split', 'imgs/5.jpg,1,3,test']
    )
    with pytest.raises(
        UserError, match=r'test_only\.csv has no image of the train split'
    ):
        GroupCSVDataset(str(csv_root), 'test_only.csv', split='test')
