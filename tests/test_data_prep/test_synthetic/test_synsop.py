"""Tests of the SynSOP generator (clad_mm/data_prep/synthetic/synsop.py) and its CLI."""

import itertools
import os
import os.path as osp
import re

import cv2
import mmengine
import numpy as np
import pytest

from clad_mm.data_prep.synthetic.synsop import (
    DEFAULT_BACKGROUND_SHIFT,
    JOURNAL_FILE,
    MANIFEST_FILE,
    META_FILE,
    draw_products,
    generate_synsop,
    read_synsop_meta,
    render_home,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TINY = dict(
    image_size=40,
    train_classes=5,
    test_classes=4,
    images_per_class=3,
    pool_size=4,
    show_progress=False,
)
# Stanford Online Products' header line of Ebay_train.txt and Ebay_test.txt.
SOP_HEADER = 'image_id class_id super_class_id path'
SOP_PATH = re.compile(r'^([a-z_]+_final)/(\d+)_(\d+)\.JPG$')
# JPEG (quality 95, chroma subsampled) smears colour across the object's
# edge: background checks skip a band this wide around the matte and allow
# this much error elsewhere.
EDGE_BAND = 2
JPEG_TOLERANCE = 24


@pytest.fixture(scope='module')
def synsop_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synsop') / 'set')
    generate_synsop(root, **TINY)
    return root


def _read_list(root, name):
    """(header, [(image_id, class_id, super_class_id, path)]) of an Ebay list."""
    with open(osp.join(root, name), encoding='utf-8') as file:
        lines = file.read().splitlines()
    rows = []
    for line in lines[1:]:
        image_id, class_id, super_class_id, path = line.split(' ')
        rows.append((int(image_id), int(class_id), int(super_class_id), path))
    return lines[0], rows


def _read_tree_bytes(root):
    contents = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as file:
                contents[osp.relpath(path, root)] = file.read()
    return contents


def _mask_of(root, path):
    return cv2.imread(
        osp.join(root, 'masks', osp.splitext(path)[0] + '.png'), cv2.IMREAD_UNCHANGED
    )


def _background_pixels(alpha):
    """Pixels with zero alpha at least EDGE_BAND pixels from the object."""
    kernel = np.ones((2 * EDGE_BAND + 1, 2 * EDGE_BAND + 1), np.uint8)
    return cv2.dilate((alpha > 0).astype(np.uint8), kernel) == 0


def _corner_colours(root, path):
    """Mean BGR colour of the background pixels in the four 8 x 8 corners."""
    image = cv2.imread(osp.join(root, path)).astype(np.float64)
    background = _background_pixels(_mask_of(root, path))
    corners = np.zeros_like(background)
    for rows, cols in itertools.product((slice(0, 8), slice(-8, None)), repeat=2):
        corners[rows, cols] = True
    return image[corners & background].mean(axis=0)


def _images_by_class(rows):
    by_class = {}
    for _, class_id, _, path in rows:
        by_class.setdefault(class_id, []).append(path)
    return by_class


def test_lists_parse_as_sop_with_disjoint_contiguous_classes(synsop_root):
    train_header, train = _read_list(synsop_root, 'Ebay_train.txt')
    test_header, test = _read_list(synsop_root, 'Ebay_test.txt')
    assert train_header == test_header == SOP_HEADER
    per_class = TINY['images_per_class']
    num_train_classes, num_test_classes = TINY['train_classes'], TINY['test_classes']
    for rows, first_class, num_classes in (
        (train, 1, num_train_classes),
        (test, num_train_classes + 1, num_test_classes),
    ):
        assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
        by_class = _images_by_class(rows)
        assert sorted(by_class) == list(range(first_class, first_class + num_classes))
        assert all(len(paths) == per_class for paths in by_class.values())
    assert not {row[1] for row in train} & {row[1] for row in test}

    folder_of_super_class, product_of_class = {}, {}
    for _, class_id, super_class_id, path in train + test:
        match = SOP_PATH.match(path)
        assert match, path
        folder, product, _ = match.groups()
        assert folder_of_super_class.setdefault(super_class_id, folder) == folder
        assert product_of_class.setdefault(class_id, product) == product
        assert osp.isfile(osp.join(synsop_root, path)), path
    assert len(set(folder_of_super_class.values())) == len(folder_of_super_class)
    assert min(folder_of_super_class) >= 1
    assert len(set(product_of_class.values())) == len(product_of_class)
    for paths in _images_by_class(train + test).values():
        indices = sorted(int(SOP_PATH.match(path).group(3)) for path in paths)
        assert indices == list(range(per_class))


def test_every_image_in_the_class_folders_is_listed(synsop_root):
    listed = {
        row[3]
        for name in ('Ebay_train.txt', 'Ebay_test.txt')
        for row in _read_list(synsop_root, name)[1]
    }
    found = set()
    for entry in os.listdir(synsop_root):
        if entry.endswith('_final'):
            found.update(
                f'{entry}/{name}' for name in os.listdir(osp.join(synsop_root, entry))
            )
    assert found == listed
    assert sorted(os.listdir(synsop_root)) == sorted(
        [
            *{path.split('/')[0] for path in listed},
            'masks',
            'backgrounds',
            'Ebay_train.txt',
            'Ebay_test.txt',
            MANIFEST_FILE,
            META_FILE,
            JOURNAL_FILE,
        ]
    )


def test_mattes_are_soft_and_as_large_as_their_images(synsop_root):
    size = TINY['image_size']
    _, train = _read_list(synsop_root, 'Ebay_train.txt')
    _, test = _read_list(synsop_root, 'Ebay_test.txt')
    for _, _, _, path in train + test:
        with open(osp.join(synsop_root, path), 'rb') as file:
            assert file.read(2) == b'\xff\xd8', f'{path} is not a JPEG file'
        image = cv2.imread(osp.join(synsop_root, path))
        alpha = _mask_of(synsop_root, path)
        assert image.shape == (size, size, 3)
        assert alpha.dtype == np.uint8 and alpha.shape == image.shape[:2]
        values = np.unique(alpha)
        assert values[0] == 0 and values[-1] == 255
        # Antialiased, feathered edges: many levels between 0 and 255.
        assert len(values) > 10, path


def test_photo_is_the_product_over_its_home_background(synsop_root):
    """Where alpha is 0 a photo shows a crop of its product's home."""
    manifest = mmengine.load(osp.join(synsop_root, MANIFEST_FILE))
    products = draw_products(TINY['train_classes'], TINY['test_classes'], seed=0)
    assert [product.class_id for product in products] == [
        entry['class_id'] for entry in manifest['products']
    ]
    size = TINY['image_size']
    for entry in manifest['train'] + manifest['test']:
        product = products[entry['class_id'] - 1]
        home = render_home(product, 0, size, DEFAULT_BACKGROUND_SHIFT)
        image = cv2.imread(osp.join(synsop_root, entry['path'])).astype(np.float64)
        alpha = _mask_of(synsop_root, entry['path'])
        background = _background_pixels(alpha)
        # Every crop of the home is tried, not only the recorded offset.
        errors = {}
        for y, x in itertools.product(range(home.shape[0] - size + 1), repeat=2):
            crop = home[y : y + size, x : x + size]
            errors[x, y] = np.abs(image[background] - crop[background])
        best = min(errors, key=lambda offset: errors[offset].mean())
        assert errors[best].max() <= JPEG_TOLERANCE, entry['path']
        assert list(best) == entry['background_offset']
        x, y = best
        crop = home[y : y + size, x : x + size]
        opaque = alpha == 255
        # The object hides the home: it is not a faint overlay.
        assert np.abs(image[opaque] - crop[opaque]).mean() > 30


def test_classmates_share_their_background_and_other_classes_do_not(synsop_root):
    _, train = _read_list(synsop_root, 'Ebay_train.txt')
    _, test = _read_list(synsop_root, 'Ebay_test.txt')
    for rows in (train, test):
        paths = [row[3] for row in rows]
        labels = np.array([row[1] for row in rows])
        colours = np.array([_corner_colours(synsop_root, path) for path in paths])
        distances = np.linalg.norm(colours[:, None] - colours[None], axis=2)
        same = labels[:, None] == labels[None]
        off_diagonal = ~np.eye(len(rows), dtype=bool)
        within = distances[same & off_diagonal].mean()
        between = distances[~same].mean()
        assert within < 0.25 * between, (within, between)
        # The bias at work: the background alone retrieves a classmate first.
        distances[~off_diagonal] = np.inf
        assert (labels[distances.argmin(axis=1)] == labels).all()


def test_products_are_distinct_combinations_in_train_and_test(synsop_root):
    manifest = mmengine.load(osp.join(synsop_root, MANIFEST_FILE))
    combinations = [
        (entry['shape'], entry['colour'], entry['stripe_angle'])
        for entry in manifest['products']
    ]
    assert len(set(combinations)) == len(combinations)
    assert len(combinations) == TINY['train_classes'] + TINY['test_classes']


def test_pools_are_distinct_from_each_other_and_from_every_home(synsop_root):
    pools = {}
    for pool in ('train', 'test'):
        folder = osp.join(synsop_root, 'backgrounds', pool)
        names = sorted(os.listdir(folder))
        assert len(names) == TINY['pool_size']
        assert all(name.endswith('.jpg') for name in names)
        pools[pool] = [
            cv2.imread(osp.join(folder, name)).astype(np.float64) for name in names
        ]
    pool_images = pools['train'] + pools['test']
    for first, second in itertools.combinations(pool_images, 2):
        assert np.abs(first - second).mean() > 15
    _, train = _read_list(synsop_root, 'Ebay_train.txt')
    _, test = _read_list(synsop_root, 'Ebay_test.txt')
    for _, _, _, path in train + test:
        photo = cv2.imread(osp.join(synsop_root, path)).astype(np.float64)
        background = _background_pixels(_mask_of(synsop_root, path))
        for pool_image in pool_images:
            assert np.abs(photo[background] - pool_image[background]).mean() > 15


def test_home_probability_zero_removes_the_shared_background(tmp_path):
    root = str(tmp_path / 'unbiased')
    generate_synsop(root, home_probability=0.0, **TINY)
    manifest = mmengine.load(osp.join(root, MANIFEST_FILE))
    assert not any(entry['on_home'] for entry in manifest['train'] + manifest['test'])
    _, rows = _read_list(root, 'Ebay_train.txt')
    labels = np.array([row[1] for row in rows])
    colours = np.array([_corner_colours(root, row[3]) for row in rows])
    distances = np.linalg.norm(colours[:, None] - colours[None], axis=2)
    same = (labels[:, None] == labels[None]) & ~np.eye(len(rows), dtype=bool)
    assert distances[same].mean() > 0.5 * distances[labels[:, None] != labels].mean()


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = _read_tree_bytes(generate_synsop(str(tmp_path / 'a'), **TINY)['out_dir'])
    second = _read_tree_bytes(generate_synsop(str(tmp_path / 'b'), **TINY)['out_dir'])
    assert first == second
    other = _read_tree_bytes(
        generate_synsop(str(tmp_path / 'c'), seed=1, **TINY)['out_dir']
    )
    assert other['Ebay_train.txt'] != first['Ebay_train.txt']
    pool_images = [path for path in first if path.endswith('.jpg')]
    assert pool_images and all(other[path] != first[path] for path in pool_images)
    photos = [path for path in first if path.endswith('.JPG') and path in other]
    assert all(other[path] != first[path] for path in photos)


def test_complete_set_is_kept_and_other_parameters_are_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synsop(out_dir, **TINY)
    stamps = {
        path: os.stat(osp.join(out_dir, path)).st_mtime_ns
        for path in _read_tree_bytes(out_dir)
    }
    summary = generate_synsop(out_dir, **TINY)
    assert not summary['generated']
    assert summary['num_train'] == TINY['train_classes'] * TINY['images_per_class']
    assert summary['num_test'] == TINY['test_classes'] * TINY['images_per_class']
    assert {
        path: os.stat(osp.join(out_dir, path)).st_mtime_ns for path in stamps
    } == stamps
    with pytest.raises(FileExistsError, match='seed'):
        generate_synsop(out_dir, seed=5, **TINY)


def test_incomplete_set_is_refused(tmp_path):
    out_dir = str(tmp_path / 'set')
    generate_synsop(out_dir, **TINY)
    _, train = _read_list(out_dir, 'Ebay_train.txt')
    os.remove(osp.join(out_dir, 'masks', osp.splitext(train[0][3])[0] + '.png'))
    assert read_synsop_meta(out_dir) is None
    with pytest.raises(FileExistsError, match='not hold a complete SynSOP set'):
        generate_synsop(out_dir, **TINY)


def test_foreign_files_are_refused_and_kept(tmp_path):
    out_dir = tmp_path / 'busy'
    out_dir.mkdir()
    (out_dir / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match=str(out_dir)):
        generate_synsop(str(out_dir), **TINY)
    assert generate_synsop(str(out_dir), overwrite=True, **TINY)['generated']
    assert (out_dir / 'notes.txt').read_text() == 'keep me'
    # A photo of someone else's inside a folder the set writes would be
    # mixed into the new set: overwrite refuses it, even in an unused shape.
    foreign = out_dir / 'masks' / 'someone_final' / 'x_0.png'
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b'not ours')
    with pytest.raises(FileExistsError, match='masks/someone_final/x_0.png'):
        generate_synsop(str(out_dir), overwrite=True, seed=3, **TINY)
    assert foreign.read_bytes() == b'not ours'
    # Nothing was removed: without the foreign file the set is whole again.
    foreign.unlink()
    assert read_synsop_meta(str(out_dir))['parameters']['seed'] == 0


def test_arguments_out_of_range_are_refused(tmp_path):
    with pytest.raises(ValueError, match='264 distinct products'):
        draw_products(200, 100, seed=0)
    for argument, message in (
        ({'train_classes': 1}, 'train_classes must be at least 2'),
        ({'images_per_class': 1}, 'images_per_class must be at least 2'),
        ({'home_probability': 1.5}, r'home_probability must be in \[0, 1\]'),
        ({'background_shift': -0.1}, 'background_shift must be in'),
    ):
        with pytest.raises(ValueError, match=message):
            generate_synsop(str(tmp_path / 'never'), **{**TINY, **argument})
    assert not osp.exists(tmp_path / 'never')


def test_cli_generates_then_skips_then_states_a_mistake_in_one_line(tmp_path, run_cli):
    out_dir = tmp_path / 'cli'
    options = [
        '--image-size', 32, '--train-classes', 3, '--test-classes', 2,
        '--images-per-class', 2, '--pool-size', 2,
    ]  # fmt: skip
    first = run_cli('data/make_synsop.py', out_dir, *options, cwd=tmp_path)
    assert first.status == 0, first.stderr
    assert 'Wrote SynSOP (6 train / 4 test images)' in first.stdout
    assert read_synsop_meta(str(out_dir))['parameters']['train_classes'] == 3
    second = run_cli('data/make_synsop.py', out_dir, *options, cwd=tmp_path)
    assert second.status == 0, second.stderr
    assert 'already holds a complete SynSOP set' in second.stdout
    failed = run_cli(
        'data/make_synsop.py', out_dir, *options, '--seed', 1, cwd=tmp_path
    )
    assert failed.status == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith(f'make_synsop.py: error: {out_dir} holds a SynSOP set')
    assert "'seed': 1" in lines[0] and '--overwrite' in lines[0]
