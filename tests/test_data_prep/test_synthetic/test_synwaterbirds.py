"""Tests of the SynWaterbirds generator (clad_mm/data_prep/synthetic/synwaterbirds.py)
and its CLI: the official Waterbirds layout, its bias and the output folder."""

import csv
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.synthetic.synwaterbirds import (
    JOURNAL_FILE,
    MANIFEST_FILE,
    META_FILE,
    generate_synwaterbirds,
    read_synwaterbirds_meta,
)
from clad_mm.datasets import WaterbirdsDataset

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
# 200 birds of each type in training, 5 % of them (10) on the other place.
SMALL = dict(num_train=400, num_val=40, num_test=160, show_progress=False)
SMALL_GROUP_COUNTS = {
    'train': [190, 10, 10, 190],
    'val': [10, 10, 10, 10],
    'test': [40, 40, 40, 40],
}
TINY = dict(image_size=32, num_train=20, num_val=8, num_test=8, show_progress=False)
# The official header of waterbird_complete95_forest2water2/metadata.csv.
HEADER = ['img_id', 'img_filename', 'y', 'split', 'place', 'place_filename']
SPLIT_CODES = {'train': '0', 'val': '1', 'test': '2'}
IMG_FILENAME = re.compile(r'^(\d{3})\.([A-Za-z_]+)/\2_\d{4}\.jpg$')
# As the official /b/bamboo_forest/00000459.jpg or /l/lake/natural/00000065.jpg.
PLACE_FILENAME = re.compile(r'^/([a-z])/\1[a-z_]*(/[a-z_]+)?/\d+\.jpg$')
GROUP_NAMES = (
    'landbird on land',
    'landbird on water',
    'waterbird on land',
    'waterbird on water',
)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('synwaterbirds') / 'set')
    generate_synwaterbirds(out_dir, **SMALL)
    return out_dir


def _read_metadata(root):
    with open(osp.join(root, 'metadata.csv'), encoding='utf-8', newline='') as file:
        rows = list(csv.reader(file))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


def _group(row):
    return 2 * int(row['y']) + int(row['place'])


def _read_tree_bytes(root):
    contents = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as file:
                contents[osp.relpath(path, root)] = file.read()
    return contents


def test_metadata_is_in_the_official_layout(root):
    header, rows = _read_metadata(root)
    assert header == HEADER
    assert len(rows) == 400 + 40 + 160
    assert [int(row['img_id']) for row in rows] == list(range(1, len(rows) + 1))
    type_of_folder = {}
    for row in rows:
        assert row['y'] in ('0', '1') and row['place'] in ('0', '1'), row
        assert row['split'] in ('0', '1', '2'), row
        assert IMG_FILENAME.match(row['img_filename']), row['img_filename']
        assert PLACE_FILENAME.match(row['place_filename']), row['place_filename']
        folder = row['img_filename'].split('/')[0]
        # A species is of one type.
        assert type_of_folder.setdefault(folder, row['y']) == row['y'], folder
    assert len({row['img_filename'] for row in rows}) == len(rows)
    assert len({row['place_filename'] for row in rows}) == len(rows)
    types = sorted(type_of_folder.values())
    assert types == ['0', '0', '0', '1', '1', '1']
    # Rows are ordered by species folder, as in the official file.
    folders = [row['img_filename'].split('/')[0] for row in rows]
    assert folders == sorted(folders)
    for split, code in SPLIT_CODES.items():
        counts = [0] * 4
        for row in rows:
            if row['split'] == code:
                counts[_group(row)] += 1
        assert counts == SMALL_GROUP_COUNTS[split], split


def test_every_image_is_listed_and_of_the_right_size(root):
    _, rows = _read_metadata(root)
    listed = {row['img_filename'] for row in rows}
    folders = {path.split('/')[0] for path in listed}
    found = {
        f'{folder}/{name}'
        for folder in folders
        for name in os.listdir(osp.join(root, folder))
    }
    assert found == listed
    assert sorted(os.listdir(root)) == sorted(
        [*folders, 'metadata.csv', MANIFEST_FILE, META_FILE, JOURNAL_FILE]
    )
    for path in listed:
        with open(osp.join(root, path), 'rb') as file:
            assert file.read(2) == b'\xff\xd8', f'{path} is not a JPEG file'
        assert cv2.imread(osp.join(root, path)).shape == (64, 64, 3), path


def test_waterbirds_dataset_reads_every_split(root):
    _, rows = _read_metadata(root)
    for split, code in SPLIT_CODES.items():
        dataset = WaterbirdsDataset(root, split)
        expected = [
            (osp.join(root, row['img_filename']), int(row['y']), _group(row))
            for row in rows
            if row['split'] == code
        ]
        infos = [dataset.get_data_info(index) for index in range(len(dataset))]
        assert [
            (info['img_path'], info['gt_label'], info['group']) for info in infos
        ] == expected
        groups = np.bincount([info['group'] for info in infos], minlength=4)
        assert groups.tolist() == SMALL_GROUP_COUNTS[split]
        assert dataset.metainfo['classes'] == ('landbird', 'waterbird')
        assert dataset.metainfo['group_names'] == GROUP_NAMES
        # 95 % of each type on its usual place.
        assert dataset.metainfo['train_group_counts'] == (190, 10, 10, 190)


def _colour_features(root, rows):
    """Mean BGR colour of the image border (the place) and of the centre."""
    border, centre = [], []
    for row in rows:
        image = cv2.imread(osp.join(root, row['img_filename'])).astype(np.float64)
        ring = np.ones(image.shape[:2], bool)
        ring[6:-6, 6:-6] = False
        border.append(image[ring].mean(axis=0))
        # The middle 8 x 8 pixels: the bird, drawn near the centre.
        centre.append(image[28:36, 28:36].reshape(-1, 3).mean(axis=0))
    return np.array(border), np.array(centre)


def _nearest_centroid(train_features, train_labels, features):
    centroids = np.stack(
        [train_features[train_labels == label].mean(axis=0) for label in (0, 1)]
    )
    distances = np.linalg.norm(features[:, None] - centroids[None], axis=2)
    return distances.argmin(axis=1)


def test_place_predicts_the_type_in_training_only_and_the_bird_always(root):
    """The bias is real: the border colour is the shortcut, the centre the bird.

    Measured with the SMALL set (seed 0): the border classifier is right on
    95.0 % of the training images (every majority one, no minority one) and
    on 50.0 % of the balanced test set (100 % and 0 % by group); the centre
    classifier is right on 100 % of every group.
    """
    _, rows = _read_metadata(root)
    train = [row for row in rows if row['split'] == '0']
    test = [row for row in rows if row['split'] == '2']
    train_labels = np.array([int(row['y']) for row in train])
    test_labels = np.array([int(row['y']) for row in test])
    test_groups = np.array([_group(row) for row in test])
    train_border, train_centre = _colour_features(root, train)
    test_border, test_centre = _colour_features(root, test)

    by_place = _nearest_centroid(train_border, train_labels, train_border)
    assert abs((by_place == train_labels).mean() - 0.95) <= 0.01
    by_place = _nearest_centroid(train_border, train_labels, test_border)
    right = by_place == test_labels
    assert 0.45 <= right.mean() <= 0.55
    for majority in (0, 3):
        assert right[test_groups == majority].mean() >= 0.95
    for minority in (1, 2):
        assert right[test_groups == minority].mean() <= 0.05

    by_bird = _nearest_centroid(train_centre, train_labels, test_centre)
    for group in range(4):
        assert (by_bird == test_labels)[test_groups == group].mean() >= 0.95, group


def test_place_correlation_sets_the_training_groups(tmp_path):
    for correlation, counts in ((1.0, [10, 0, 0, 10]), (0.5, [5, 5, 5, 5])):
        out_dir = str(tmp_path / str(correlation))
        generate_synwaterbirds(out_dir, place_correlation=correlation, **TINY)
        _, rows = _read_metadata(out_dir)
        train = [row for row in rows if row['split'] == '0']
        assert np.bincount([_group(row) for row in train], minlength=4).tolist() == (
            counts
        )


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = _read_tree_bytes(
        generate_synwaterbirds(str(tmp_path / 'a'), **TINY)['out_dir']
    )
    second = _read_tree_bytes(
        generate_synwaterbirds(str(tmp_path / 'b'), **TINY)['out_dir']
    )
    assert first == second
    other = _read_tree_bytes(
        generate_synwaterbirds(str(tmp_path / 'c'), seed=1, **TINY)['out_dir']
    )
    assert other['metadata.csv'] != first['metadata.csv']
    shared = [path for path in first if path.endswith('.jpg') and path in other]
    assert shared and all(other[path] != first[path] for path in shared)


def test_complete_set_is_kept_and_other_parameters_are_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synwaterbirds(out_dir, **TINY)
    stamps = {
        path: os.stat(osp.join(out_dir, path)).st_mtime_ns
        for path in _read_tree_bytes(out_dir)
    }
    summary = generate_synwaterbirds(out_dir, **TINY)
    assert not summary['generated']
    assert (summary['num_train'], summary['num_val'], summary['num_test']) == (20, 8, 8)
    assert {
        path: os.stat(osp.join(out_dir, path)).st_mtime_ns for path in stamps
    } == stamps
    with pytest.raises(FileExistsError, match='seed'):
        generate_synwaterbirds(out_dir, seed=5, **TINY)


def test_incomplete_set_is_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synwaterbirds(out_dir, **TINY)
    _, rows = _read_metadata(out_dir)
    os.remove(osp.join(out_dir, rows[0]['img_filename']))
    assert read_synwaterbirds_meta(out_dir) is None
    with pytest.raises(FileExistsError, match='not hold a complete SynWaterbirds'):
        generate_synwaterbirds(out_dir, **TINY)


def test_foreign_files_are_refused_and_kept(tmp_path):
    out_dir = tmp_path / 'busy'
    out_dir.mkdir()
    (out_dir / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match=str(out_dir)):
        generate_synwaterbirds(str(out_dir), **TINY)
    assert generate_synwaterbirds(str(out_dir), overwrite=True, **TINY)['generated']
    assert (out_dir / 'notes.txt').read_text() == 'keep me'
    # An image of someone else's in a species folder would be listed by no
    # metadata.csv but mixed into the set's folder: overwrite refuses it.
    species_folder = _read_metadata(str(out_dir))[1][0]['img_filename'].split('/')[0]
    foreign = out_dir / species_folder / 'theirs.jpg'
    foreign.write_bytes(b'not ours')
    with pytest.raises(FileExistsError, match=f'{species_folder}/theirs.jpg'):
        generate_synwaterbirds(str(out_dir), overwrite=True, seed=3, **TINY)
    assert foreign.read_bytes() == b'not ours'
    # Nothing was removed: without the foreign file the set is whole again.
    foreign.unlink()
    assert read_synwaterbirds_meta(str(out_dir))['parameters']['seed'] == 0


def test_arguments_out_of_range_are_refused(tmp_path):
    for argument, message in (
        ({'image_size': 8}, 'image_size must be at least 16'),
        ({'num_val': 3}, 'num_val must be at least 4'),
        ({'place_correlation': 1.5}, r'place_correlation must be in \[0, 1\]'),
        ({'bird_size': 0.45}, 'bird_size must be in'),
    ):
        with pytest.raises(ValueError, match=message):
            generate_synwaterbirds(str(tmp_path / 'never'), **{**TINY, **argument})
    assert not osp.exists(tmp_path / 'never')


def test_cli_generates_then_skips_then_states_a_mistake_in_one_line(tmp_path, run_cli):
    out_dir = tmp_path / 'cli'
    options = [
        '--image-size', 32, '--num-train', 20, '--num-val', 8, '--num-test', 12,
    ]  # fmt: skip
    first = run_cli('data/make_synwaterbirds.py', out_dir, *options, cwd=tmp_path)
    assert first.status == 0, first.stderr
    assert 'Wrote SynWaterbirds (20 train / 12 test images)' in first.stdout
    assert read_synwaterbirds_meta(str(out_dir))['parameters']['num_val'] == 8
    second = run_cli('data/make_synwaterbirds.py', out_dir, *options, cwd=tmp_path)
    assert second.status == 0, second.stderr
    assert 'already holds a complete SynWaterbirds set' in second.stdout
    failed = run_cli(
        'data/make_synwaterbirds.py', out_dir, *options, '--seed', 1, cwd=tmp_path
    )
    assert failed.status == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith(
        f'make_synwaterbirds.py: error: {out_dir} holds a SynWaterbirds set'
    )
    assert "'seed': 1" in lines[0] and '--overwrite' in lines[0]
