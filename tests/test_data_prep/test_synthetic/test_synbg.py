"""Tests of the SynBG generator (clad_mm/data_prep/synthetic/synbg.py) and its CLI."""

import os
import os.path as osp

import cv2
import mmengine
import numpy as np
import pytest

from clad_mm.data_prep.synthetic.synbg import (
    CLASSES,
    JOURNAL_FILE,
    MANIFEST_FILE,
    META_FILE,
    generate_synbg,
    read_synbg_meta,
)

# CLAD's training folders and the Background Challenge's test splits.
EXPECTED_TRAIN_FOLDERS = ('original', 'fg_mask', 'fg_grabcut', 'only_bg_t')
EXPECTED_TEST_SPLITS = (
    'original',
    'only_fg',
    'only_bg_b',
    'only_bg_t',
    'no_fg',
    'mixed_same',
    'mixed_rand',
    'mixed_next',
)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TINY = dict(image_size=32, train_per_class=3, test_per_class=3, show_progress=False)
# JPEG (quality 95, chroma subsampled) smears colour across edges: pixel
# checks skip a band this wide around the mask border and allow this much
# error elsewhere (background colours are far brighter than that).
EDGE_BAND = 2
JPEG_TOLERANCE = 24


@pytest.fixture(scope='module')
def synbg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synbg') / 'set')
    generate_synbg(root, **TINY)
    return root


def _stems_by_class(folder):
    """{class folder: sorted file stems} of a ``<folder>/<class>/<file>`` tree."""
    return {
        name: sorted(
            osp.splitext(file)[0] for file in os.listdir(osp.join(folder, name))
        )
        for name in sorted(os.listdir(folder))
    }


def _extensions(folder):
    return {osp.splitext(file)[1] for _, _, files in os.walk(folder) for file in files}


def _read_bytes_tree(root):
    contents = {}
    for directory, _, files in os.walk(root):
        for file in files:
            path = osp.join(directory, file)
            with open(path, 'rb') as handle:
                contents[osp.relpath(path, root)] = handle.read()
    return contents


def _away_from_edge(mask):
    """Pixels of ``mask`` at least EDGE_BAND pixels away from its border."""
    kernel = np.ones((2 * EDGE_BAND + 1, 2 * EDGE_BAND + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def _test_image(root, split, class_name, stem):
    return cv2.imread(
        osp.join(root, 'test_set', split, 'val', class_name, stem + '.JPEG')
    )


def test_layout_has_every_folder_and_nine_classes(synbg_root):
    assert sorted(os.listdir(synbg_root)) == sorted(
        [*EXPECTED_TRAIN_FOLDERS, 'test_set', META_FILE, MANIFEST_FILE, JOURNAL_FILE]
    )
    assert len(CLASSES) == 9
    assert all(name.startswith(f'{index:02d}_') for index, name in enumerate(CLASSES))
    for folder in EXPECTED_TRAIN_FOLDERS:
        assert os.listdir(osp.join(synbg_root, folder)) == ['train']
    assert sorted(os.listdir(osp.join(synbg_root, 'test_set'))) == sorted(
        [*EXPECTED_TEST_SPLITS, 'fg_mask']
    )
    for split in (*EXPECTED_TEST_SPLITS, 'fg_mask'):
        assert os.listdir(osp.join(synbg_root, 'test_set', split)) == ['val']


def test_train_folders_correspond_file_for_file(synbg_root):
    expected = _stems_by_class(osp.join(synbg_root, 'original', 'train'))
    assert list(expected) == list(CLASSES)
    assert all(len(stems) == TINY['train_per_class'] for stems in expected.values())
    for folder in EXPECTED_TRAIN_FOLDERS:
        path = osp.join(synbg_root, folder, 'train')
        assert _stems_by_class(path) == expected, folder
        assert _extensions(path) == ({'.png'} if folder == 'fg_mask' else {'.JPEG'})


def test_test_splits_and_masks_correspond_file_for_file(synbg_root):
    expected = _stems_by_class(osp.join(synbg_root, 'test_set', 'original', 'val'))
    assert list(expected) == list(CLASSES)
    assert all(len(stems) == TINY['test_per_class'] for stems in expected.values())
    train_stems = _stems_by_class(osp.join(synbg_root, 'original', 'train'))
    assert not set(sum(expected.values(), [])) & set(sum(train_stems.values(), []))
    for split in (*EXPECTED_TEST_SPLITS, 'fg_mask'):
        path = osp.join(synbg_root, 'test_set', split, 'val')
        assert _stems_by_class(path) == expected, split
        assert _extensions(path) == ({'.npy'} if split == 'fg_mask' else {'.JPEG'})


def _read_train(root, folder, class_name, file_name, flags=cv2.IMREAD_COLOR):
    """Reads ``<root>/<folder>/train/<class_name>/<file_name>`` with cv2."""
    return cv2.imread(osp.join(root, folder, 'train', class_name, file_name), flags)


def test_masks_are_binary_and_match_the_images(synbg_root):
    size = TINY['image_size']
    for class_name, stems in _stems_by_class(
        osp.join(synbg_root, 'original', 'train')
    ).items():
        for stem in stems:
            mask = _read_train(
                synbg_root, 'fg_mask', class_name, stem + '.png', cv2.IMREAD_UNCHANGED
            )
            image = _read_train(synbg_root, 'original', class_name, stem + '.JPEG')
            assert mask.dtype == np.uint8 and mask.shape == image.shape[:2]
            assert image.shape == (size, size, 3)
            assert set(np.unique(mask)) == {0, 255}
    for class_name, stems in _stems_by_class(
        osp.join(synbg_root, 'test_set', 'fg_mask', 'val')
    ).items():
        for stem in stems:
            mask = np.load(
                osp.join(
                    synbg_root, 'test_set', 'fg_mask', 'val', class_name, stem + '.npy'
                )
            )
            assert mask.shape == (size, size)
            assert set(np.unique(mask)) == {0, 1}


def test_foreground_views_are_black_outside_the_mask(synbg_root):
    for class_name, stems in _stems_by_class(
        osp.join(synbg_root, 'original', 'train')
    ).items():
        for stem in stems:
            mask = _read_train(
                synbg_root, 'fg_mask', class_name, stem + '.png', cv2.IMREAD_GRAYSCALE
            )
            grabcut = _read_train(synbg_root, 'fg_grabcut', class_name, stem + '.JPEG')
            original = _read_train(synbg_root, 'original', class_name, stem + '.JPEG')
            assert grabcut[_away_from_edge(mask == 0)].max() <= JPEG_TOLERANCE
            inside = _away_from_edge(mask > 0)
            difference = np.abs(grabcut[inside].astype(int) - original[inside])
            assert difference.max(initial=0) <= JPEG_TOLERANCE
            # The foreground colours are bright, so the object is not black.
            assert grabcut[mask > 0].max() > 100
    for class_name, stems in _stems_by_class(
        osp.join(synbg_root, 'test_set', 'fg_mask', 'val')
    ).items():
        for stem in stems:
            mask = np.load(
                osp.join(
                    synbg_root, 'test_set', 'fg_mask', 'val', class_name, stem + '.npy'
                )
            )
            only_fg = _test_image(synbg_root, 'only_fg', class_name, stem)
            original = _test_image(synbg_root, 'original', class_name, stem)
            assert only_fg[_away_from_edge(mask == 0)].max() <= JPEG_TOLERANCE
            inside = _away_from_edge(mask == 1)
            difference = np.abs(only_fg[inside].astype(int) - original[inside])
            assert difference.max(initial=0) <= JPEG_TOLERANCE


def test_manifest_lists_every_image_with_its_labels(synbg_root):
    manifest = mmengine.load(osp.join(synbg_root, MANIFEST_FILE))
    for split, folder in (
        ('train', 'original/train'),
        ('test', 'test_set/original/val'),
    ):
        stems = _stems_by_class(osp.join(synbg_root, folder))
        entries = manifest[split]
        assert len(entries) == sum(len(group) for group in stems.values())
        for entry in entries:
            assert entry['stem'] in stems[CLASSES[entry['label']]]
            assert 0 <= entry['background_label'] < len(CLASSES)


def test_mixed_next_background_comes_from_the_next_class(synbg_root):
    manifest = mmengine.load(osp.join(synbg_root, MANIFEST_FILE))
    for entry in manifest['test']:
        class_name = CLASSES[entry['label']]
        next_class = CLASSES[(entry['label'] + 1) % len(CLASSES)]
        donor = entry['mixed_next']['donor']
        donor_background = _test_image(synbg_root, 'only_bg_t', next_class, donor)
        assert donor_background is not None, f'{donor} is not in class {next_class}'
        mask = np.load(
            osp.join(
                synbg_root,
                'test_set',
                'fg_mask',
                'val',
                class_name,
                entry['stem'] + '.npy',
            )
        )
        composite = _test_image(synbg_root, 'mixed_next', class_name, entry['stem'])
        original = _test_image(synbg_root, 'original', class_name, entry['stem'])
        outside = _away_from_edge(mask == 0)
        to_donor = np.abs(composite[outside].astype(int) - donor_background[outside])
        to_own = np.abs(composite[outside].astype(int) - original[outside])
        assert to_donor.max() <= JPEG_TOLERANCE
        assert to_own.mean() > 3 * to_donor.mean()
        inside = _away_from_edge(mask == 1)
        inside_difference = np.abs(composite[inside].astype(int) - original[inside])
        assert inside_difference.max(initial=0) <= JPEG_TOLERANCE


def test_mixed_same_and_rand_donors_are_other_images(synbg_root):
    manifest = mmengine.load(osp.join(synbg_root, MANIFEST_FILE))
    labels = {entry['stem']: entry['label'] for entry in manifest['test']}
    for entry in manifest['test']:
        for split in ('mixed_same', 'mixed_rand', 'mixed_next'):
            assert entry[split]['donor'] != entry['stem']
            assert labels[entry[split]['donor']] == entry[split]['donor_label']
        assert entry['mixed_same']['donor_label'] == entry['label']


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = _read_bytes_tree(generate_synbg(str(tmp_path / 'a'), **TINY)['out_dir'])
    second = _read_bytes_tree(generate_synbg(str(tmp_path / 'b'), **TINY)['out_dir'])
    assert first == second
    other = _read_bytes_tree(
        generate_synbg(str(tmp_path / 'c'), seed=1, **TINY)['out_dir']
    )
    assert other.keys() == first.keys()
    images = [path for path in first if path.endswith('.JPEG')]
    assert all(other[path] != first[path] for path in images)


def test_refuses_a_non_empty_directory_unless_overwrite(tmp_path):
    out_dir = tmp_path / 'busy'
    out_dir.mkdir()
    (out_dir / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match=str(out_dir)):
        generate_synbg(str(out_dir), **TINY)
    summary = generate_synbg(str(out_dir), overwrite=True, **TINY)
    assert summary['generated']
    assert (out_dir / 'notes.txt').read_text() == 'keep me'
    assert read_synbg_meta(str(out_dir)) is not None


def test_complete_set_is_kept_and_incomplete_set_is_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synbg(out_dir, **TINY)
    meta_path = osp.join(out_dir, META_FILE)
    written_at = os.stat(meta_path).st_mtime_ns
    summary = generate_synbg(out_dir, **TINY)
    assert not summary['generated']
    assert summary['num_train'] == 9 * TINY['train_per_class']
    assert os.stat(meta_path).st_mtime_ns == written_at
    with pytest.raises(FileExistsError, match='seed'):
        generate_synbg(out_dir, seed=5, **TINY)
    some_mask = osp.join(out_dir, 'test_set', 'fg_mask', 'val', CLASSES[4])
    os.remove(osp.join(some_mask, sorted(os.listdir(some_mask))[0]))
    assert read_synbg_meta(out_dir) is None
    with pytest.raises(FileExistsError, match='not hold a complete SynBG set'):
        generate_synbg(out_dir, **TINY)


def test_cli_generates_then_skips_then_refuses(tmp_path, run_cli):
    out_dir = tmp_path / 'cli'
    options = ['--image-size', '32', '--train-per-class', '2', '--test-per-class']
    first = run_cli('data/make_synbg.py', out_dir, *options, '2', cwd=tmp_path)
    assert first.status == 0, first.stderr
    assert 'Wrote SynBG' in first.stdout
    assert read_synbg_meta(str(out_dir))['parameters']['train_per_class'] == 2
    second = run_cli('data/make_synbg.py', out_dir, *options, '2', cwd=tmp_path)
    assert second.status == 0, second.stderr
    assert 'already holds a complete SynBG set' in second.stdout
    third = run_cli('data/make_synbg.py', out_dir, *options, '3', cwd=tmp_path)
    assert third.status != 0
    assert str(out_dir) in third.stderr
