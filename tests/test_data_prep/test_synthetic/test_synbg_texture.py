"""Tests of the SynBG texture variant (clad_mm/data_prep/synthetic/synbg_texture.py),
its CLI and its configs."""

import os
import os.path as osp

import cv2
import mmengine
import numpy as np
import pytest
from mmengine.config import Config

from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.data_prep.synthetic.synbg_texture import (
    CLASSES,
    JOURNAL_FILE,
    MANIFEST_FILE,
    META_FILE,
    generate_synbg_texture,
    read_synbg_texture_meta,
)
from clad_mm.utils.errors import OutputExistsError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
# The names other components rely on (common to the S-CLAD work).
EXPECTED_TRAIN_FOLDERS = ('original', 'fg_mask', 'only_texture')
EXPECTED_TEST_SPLITS = ('original', 'random_texture', 'outline', 'only_texture')
TINY = dict(image_size=32, train_per_class=2, test_per_class=2, show_progress=False)
NUM_FAMILIES = 9
# Hue of texture family k: k / 9 of the colour circle; OpenCV's 8-bit hue
# runs over [0, 180), so families lie 20 apart.
OPENCV_HUE_CIRCLE = 180


@pytest.fixture(scope='module')
def texture_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synbg_texture') / 'set')
    generate_synbg_texture(root, **TINY)
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


def _train_image(root, folder, label, stem, flags=cv2.IMREAD_COLOR):
    path = osp.join(root, folder, 'train', CLASSES[label], stem + '.png')
    image = cv2.imread(path, flags)
    assert image is not None, path
    return image


def _test_image(root, split, label, stem):
    path = osp.join(root, 'test_set', split, 'val', CLASSES[label], stem + '.png')
    image = cv2.imread(path)
    assert image is not None, path
    return image


def _test_mask(root, label, stem):
    return np.load(
        osp.join(root, 'test_set', 'fg_mask', 'val', CLASSES[label], stem + '.npy')
    )


def _is_grey(pixels):
    """Whether each BGR pixel has three equal channels (no hue)."""
    return (pixels.max(axis=-1) == pixels.min(axis=-1)).all()


def _grow(mask, pixels):
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def _assert_ink_outline_on_grey(image, mask):
    """Outside ``mask``: a dark ink contour around it on a bright grey ground."""
    assert _is_grey(image[~mask])
    dark = (image[..., 0] < 100) & ~mask
    assert dark[_grow(mask, 1) & ~mask].all()  # closed around the mask
    assert not dark[~_grow(mask, 3)].any()  # a thin line along it, nothing else
    assert image[~mask & ~dark].min() >= 120


def _nearest_family(pixels):
    """Texture family whose hue is closest to that of the pixels' mean colour.

    The light and dark colours of a texture are multiples of one colour, so
    their mean keeps its hue.
    """
    mean = pixels.reshape(-1, 3).mean(axis=0)
    mean_colour = np.clip(np.round(mean), 0, 255).astype(np.uint8)
    hue = float(cv2.cvtColor(mean_colour[None, None], cv2.COLOR_BGR2HSV)[0, 0, 0])
    family_hues = np.arange(NUM_FAMILIES) * OPENCV_HUE_CIRCLE / NUM_FAMILIES
    distance = np.abs(hue - family_hues)
    distance = np.minimum(distance, OPENCV_HUE_CIRCLE - distance)
    return int(np.argmin(distance))


def _hole_count(mask):
    _, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE
    )
    # With RETR_CCOMP, holes are the contours that have a parent.
    return int((hierarchy[0, :, 3] >= 0).sum())


def test_layout_counts_and_stems(texture_root):
    assert sorted(os.listdir(texture_root)) == sorted(
        [*EXPECTED_TRAIN_FOLDERS, 'test_set', MANIFEST_FILE, META_FILE, JOURNAL_FILE]
    )
    train_stems = _stems_by_class(osp.join(texture_root, 'original', 'train'))
    assert list(train_stems) == list(CLASSES)
    assert all(len(s) == TINY['train_per_class'] for s in train_stems.values())
    for folder in EXPECTED_TRAIN_FOLDERS:
        path = osp.join(texture_root, folder, 'train')
        # The texture pool lines up with the training images, file for file.
        assert _stems_by_class(path) == train_stems, folder
        assert _extensions(path) == {'.png'}

    assert sorted(os.listdir(osp.join(texture_root, 'test_set'))) == sorted(
        [*EXPECTED_TEST_SPLITS, 'fg_mask']
    )
    test_stems = _stems_by_class(osp.join(texture_root, 'test_set', 'original', 'val'))
    assert all(len(s) == TINY['test_per_class'] for s in test_stems.values())
    assert not set(sum(test_stems.values(), [])) & set(sum(train_stems.values(), []))
    for split in (*EXPECTED_TEST_SPLITS, 'fg_mask'):
        path = osp.join(texture_root, 'test_set', split, 'val')
        assert _stems_by_class(path) == test_stems, split
        assert _extensions(path) == ({'.npy'} if split == 'fg_mask' else {'.png'})

    meta = read_synbg_texture_meta(texture_root)
    assert meta['num_train'] == 9 * TINY['train_per_class']
    assert meta['num_test'] == 9 * TINY['test_per_class']
    assert meta['parameters']['texture_correlation'] == 0.8


def test_manifest_lists_every_image_with_its_labels(texture_root):
    manifest = mmengine.load(osp.join(texture_root, MANIFEST_FILE))
    for split, folder in (
        ('train', 'original/train'),
        ('test', 'test_set/original/val'),
    ):
        stems = _stems_by_class(osp.join(texture_root, folder))
        entries = manifest[split]
        assert len(entries) == sum(len(group) for group in stems.values())
        assert len({entry['stem'] for entry in entries}) == len(entries)
        for entry in entries:
            assert entry['stem'] in stems[CLASSES[entry['label']]]
            assert 0 <= entry['texture_label'] < NUM_FAMILIES


def test_training_images_are_texture_on_grey_and_masks_match(texture_root):
    manifest = mmengine.load(osp.join(texture_root, MANIFEST_FILE))
    size = TINY['image_size']
    for entry in manifest['train']:
        label, stem = entry['label'], entry['stem']
        original = _train_image(texture_root, 'original', label, stem)
        texture = _train_image(texture_root, 'only_texture', label, stem)
        mask_image = _train_image(
            texture_root, 'fg_mask', label, stem, cv2.IMREAD_UNCHANGED
        )
        assert original.shape == texture.shape == (size, size, 3)
        assert mask_image.shape == (size, size) and mask_image.dtype == np.uint8
        assert set(np.unique(mask_image)) == {0, 255}
        mask = mask_image == 255
        # The neutral background, whatever the class, and the shape's contour.
        _assert_ink_outline_on_grey(original, mask)
        # Inside the mask, exactly the texture donor's pixels, which have hue.
        np.testing.assert_array_equal(original[mask], texture[mask])
        spread = original[mask].max(axis=-1).astype(int) - original[mask].min(axis=-1)
        assert spread.min() > 20
        assert _nearest_family(texture) == entry['texture_label']
        assert _nearest_family(original[mask]) == entry['texture_label']
        x0, y0, x1, y1 = entry['box']
        rows, cols = np.nonzero(mask)
        assert (x0, y0, x1, y1) == (
            cols.min(),
            rows.min(),
            cols.max() + 1,
            rows.max() + 1,
        )


def test_every_shape_is_solid_so_that_outlines_are_unambiguous(texture_root):
    # A hollow class (SynBG's ring) would be the outline of any round shape.
    assert not {'05_ring', '06_crescent'} & set(CLASSES)
    for class_name, stems in _stems_by_class(
        osp.join(texture_root, 'fg_mask', 'train')
    ).items():
        label = CLASSES.index(class_name)
        for stem in stems:
            mask = _train_image(texture_root, 'fg_mask', label, stem, 0) > 0
            components, _ = cv2.connectedComponents(mask.astype(np.uint8))
            assert components == 2, (class_name, stem)  # background + one shape
            assert _hole_count(mask) == 0, (class_name, stem)


def test_test_splits_show_the_manifest_textures(texture_root):
    manifest = mmengine.load(osp.join(texture_root, MANIFEST_FILE))
    for entry in manifest['test']:
        label, stem = entry['label'], entry['stem']
        mask = _test_mask(texture_root, label, stem)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
        mask = mask == 1
        original = _test_image(texture_root, 'original', label, stem)
        conflict = _test_image(texture_root, 'random_texture', label, stem)
        only_texture = _test_image(texture_root, 'only_texture', label, stem)

        _assert_ink_outline_on_grey(original, mask)
        spread = original[mask].max(axis=-1).astype(int) - original[mask].min(axis=-1)
        assert spread.min() > 20
        assert _nearest_family(original[mask]) == entry['texture_label']

        # Same shape on the same background, filled with another class's family.
        conflict_label = entry['random_texture']['texture_label']
        assert conflict_label != label
        np.testing.assert_array_equal(conflict[~mask], original[~mask])
        assert _nearest_family(conflict[mask]) == conflict_label

        # The class's family over the whole frame, no grey left.
        assert entry['only_texture']['texture_label'] == label
        assert _nearest_family(only_texture) == label
        spread = only_texture.max(axis=-1).astype(int) - only_texture.min(axis=-1)
        assert spread.min() > 20


def test_outline_images_are_the_ink_outline_without_texture(texture_root):
    manifest = mmengine.load(osp.join(texture_root, MANIFEST_FILE))
    for entry in manifest['test']:
        label, stem = entry['label'], entry['stem']
        mask = _test_mask(texture_root, label, stem) == 1
        outline = _test_image(texture_root, 'outline', label, stem)
        original = _test_image(texture_root, 'original', label, stem)
        # The original's contour and background, and the same grey inside.
        np.testing.assert_array_equal(outline[~mask], original[~mask])
        _assert_ink_outline_on_grey(outline, mask)
        assert _is_grey(outline[mask]) and outline[mask].min() >= 120


def test_correlation_extremes_give_own_or_other_textures(tmp_path):
    for correlation in (0.0, 1.0):
        root = str(tmp_path / f'c{correlation}')
        generate_synbg_texture(root, texture_correlation=correlation, **TINY)
        manifest = mmengine.load(osp.join(root, MANIFEST_FILE))
        for entry in manifest['train'] + manifest['test']:
            own = entry['texture_label'] == entry['label']
            assert own == (correlation == 1.0), entry
        for entry in manifest['train']:
            texture = _train_image(root, 'only_texture', entry['label'], entry['stem'])
            assert _nearest_family(texture) == entry['texture_label']


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = _read_bytes_tree(
        generate_synbg_texture(str(tmp_path / 'a'), **TINY)['out_dir']
    )
    second = _read_bytes_tree(
        generate_synbg_texture(str(tmp_path / 'b'), **TINY)['out_dir']
    )
    assert first == second
    other = _read_bytes_tree(
        generate_synbg_texture(str(tmp_path / 'c'), seed=1, **TINY)['out_dir']
    )
    assert other.keys() == first.keys()
    images = [path for path in first if path.endswith('.png')]
    assert all(other[path] != first[path] for path in images)


def test_refuses_a_non_empty_directory_unless_overwrite(tmp_path):
    out_dir = tmp_path / 'busy'
    out_dir.mkdir()
    (out_dir / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='not hold a complete SynBG texture'):
        generate_synbg_texture(str(out_dir), **TINY)
    assert os.listdir(out_dir) == ['notes.txt']
    summary = generate_synbg_texture(str(out_dir), overwrite=True, **TINY)
    assert summary['generated']
    assert (out_dir / 'notes.txt').read_text() == 'keep me'
    assert read_synbg_texture_meta(str(out_dir)) is not None


def test_same_parameters_are_a_no_op_and_others_are_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synbg_texture(out_dir, **TINY)
    meta_path = osp.join(out_dir, META_FILE)
    written_at = os.stat(meta_path).st_mtime_ns
    summary = generate_synbg_texture(out_dir, **TINY)
    assert not summary['generated']
    assert os.stat(meta_path).st_mtime_ns == written_at
    with pytest.raises(FileExistsError, match='texture_correlation'):
        generate_synbg_texture(out_dir, texture_correlation=0.5, **TINY)
    some_outline = osp.join(out_dir, 'test_set', 'outline', 'val', CLASSES[3])
    os.remove(osp.join(some_outline, sorted(os.listdir(some_outline))[0]))
    assert read_synbg_texture_meta(out_dir) is None
    with pytest.raises(FileExistsError, match='not hold a complete SynBG texture'):
        generate_synbg_texture(out_dir, **TINY)


def test_a_set_of_another_format_version_is_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synbg_texture(out_dir, **TINY)
    meta_path = osp.join(out_dir, META_FILE)
    meta = mmengine.load(meta_path)
    older = meta['version'] - 1
    mmengine.dump({**meta, 'version': older}, meta_path)
    with pytest.raises(FileExistsError, match=f'format version {older},.*--overwrite'):
        generate_synbg_texture(out_dir, **TINY)
    assert generate_synbg_texture(out_dir, overwrite=True, **TINY)['generated']
    assert mmengine.load(meta_path)['version'] == meta['version']


def test_a_synbg_set_is_not_taken_for_a_texture_set(tmp_path):
    out_dir = str(tmp_path / 'synbg')
    generate_synbg(out_dir, **TINY)
    assert read_synbg_texture_meta(out_dir) is None
    with pytest.raises(FileExistsError, match='not hold a complete SynBG texture'):
        generate_synbg_texture(out_dir, **TINY)


@pytest.mark.parametrize(
    ('argument', 'value'),
    [
        ('image_size', 8),
        ('train_per_class', 0),
        ('test_per_class', -1),
        ('texture_correlation', 1.5),
        ('texture_correlation', -0.1),
    ],
)
def test_bad_arguments_name_the_argument_and_write_nothing(tmp_path, argument, value):
    out_dir = tmp_path / 'bad'
    with pytest.raises(ValueError, match=f'{argument} must be .*got {value}'):
        generate_synbg_texture(str(out_dir), **{**TINY, argument: value})
    assert not out_dir.exists()


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / 'file'
    path.write_text('')
    with pytest.raises(OutputExistsError, match=f'{path} exists and is a file'):
        generate_synbg_texture(str(path), **TINY)


def test_cli_generates_then_skips_then_refuses(tmp_path, run_cli):
    tool = 'data/make_synbg_texture.py'
    out_dir = str(tmp_path / 'cli')
    argv = [out_dir, '--image-size', '32', '--train-per-class', '1']
    argv += ['--test-per-class', '1']
    first = run_cli(tool, *argv)
    assert first.status == 0 and 'Wrote SynBG texture' in first.stdout
    assert read_synbg_texture_meta(out_dir)['parameters']['train_per_class'] == 1
    second = run_cli(tool, *argv)
    assert 'already holds a complete SynBG texture set' in second.stdout
    run_cli(tool, *argv, '--seed', '3').assert_user_error(out_dir, "'seed': 0")
    run_cli(
        tool, str(tmp_path / 'other'), '--texture-correlation', '2'
    ).assert_user_error('texture_correlation must be in')


def test_configs_read_the_generated_set(texture_root):
    from mmpretrain.registry import DATASETS

    import clad_mm  # noqa: F401  (registers the datasets)

    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 's_clad', 'resnet18_synbg_texture_baseline.py')
    )
    assert cfg.model.head.num_classes == 9
    assert cfg.train_cfg.max_epochs == 8
    assert cfg.data_root == 'data/synbg_texture'
    assert cfg.val_dataloader.dataset.splits == [
        'original',
        'random_texture',
        'outline',
    ]
    train_cfg = {**cfg.train_dataloader.dataset, 'data_root': texture_root}
    train = DATASETS.build(train_cfg)
    assert len(train) == 9 * TINY['train_per_class']
    test_root = osp.join(texture_root, 'test_set')
    test = DATASETS.build({**cfg.test_dataloader.dataset, 'data_root': test_root})
    assert test.split_names == EXPECTED_TEST_SPLITS
    assert len(test) == 4 * 9 * TINY['test_per_class']
    assert test.get_data_info(0)['gt_label'] == 0
