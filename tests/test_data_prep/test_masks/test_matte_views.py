"""make_masks --views mattes on a tiny Stanford-Online-Products-like tree.

The mattes go to ``<root>/masks/<rel>/<stem>.png``, inside the tree they
segment, where ``SOPRetrievalDataset(masks_root='masks')`` looks for them.
"""

import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.masks.mask_folder import JOURNAL_FILE, REPORT_FILE
from clad_mm.datasets.sop_retrieval_dataset import SOPRetrievalDataset
from clad_mm.datasets.transforms.load_foreground_matte import LoadForegroundMatte

HEIGHT, WIDTH = 40, 56
SQUARE_BGR = (230, 210, 190)
HEADER = 'image_id class_id super_class_id path\n'
#: (path, class id, super class id) of the official listings.
TRAIN_IMAGES = (
    ('bicycle_final/100_0.JPG', 1, 1),
    ('bicycle_final/100_1.JPG', 1, 1),
    ('chair_final/200_0.JPG', 2, 2),
)
TEST_IMAGES = (
    ('chair_final/300_0.JPG', 3, 2),
    ('chair_final/extra/400_0.JPG', 4, 2),
)
IMAGES = tuple(path for path, _, _ in TRAIN_IMAGES + TEST_IMAGES)
NO_LISTING_COUNTS = {'rejected': 0, 'failed': 0, 'not_images': 2}


def draw_square_image(seed):
    """A bright rectangle well inside the centre box on a dark noisy ground."""
    rng = np.random.default_rng(seed)
    ground = rng.normal(30, 6, (HEIGHT, WIDTH, 3))
    image = np.clip(ground, 0, 255).astype(np.uint8)
    x0, y0 = 16 + int(rng.integers(0, 5)), 11 + int(rng.integers(0, 3))
    truth = np.zeros((HEIGHT, WIDTH), np.uint8)
    truth[y0 : y0 + 16, x0 : x0 + 20] = 1
    image[truth == 1] = SQUARE_BGR
    return image, truth


@pytest.fixture
def sop_root(tmp_path):
    """``Stanford_Online_Products`` with five JPEGs and its two listings."""
    root = tmp_path / 'Stanford_Online_Products'
    truths = {}
    for seed, relative in enumerate(IMAGES):
        image, truth = draw_square_image(seed)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / relative), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        truths[relative] = truth
    for name, listing in (
        ('Ebay_train.txt', TRAIN_IMAGES),
        ('Ebay_test.txt', TEST_IMAGES),
    ):
        rows = [
            f'{number} {class_id} {super_id} {path}\n'
            for number, (path, class_id, super_id) in enumerate(listing, start=1)
        ]
        (root / name).write_text(HEADER + ''.join(rows))
    return root, truths


def matte_path(root, relative):
    return root / 'masks' / (osp.splitext(relative)[0] + '.png')


def make_mattes(run_cli, img_root, out_root, *options, method='grabcut-center'):
    return run_cli(
        'data/make_masks.py', img_root, out_root, '--method', method,
        '--views', 'mattes', '--workers', '1', *options,
    )  # fmt: skip


def read_report(out_root):
    return json.loads((out_root / REPORT_FILE).read_text())


def files_below(folder):
    return sorted(
        osp.relpath(osp.join(parent, name), folder).replace(os.sep, '/')
        for parent, _, names in os.walk(folder)
        for name in names
    )


def hand_iou(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def test_grabcut_mattes_mirror_the_tree_and_the_listings_are_counted(run_cli, sop_root):
    root, truths = sop_root
    result = make_mattes(run_cli, root, root / 'masks')
    assert result.status == 0, result.stderr
    for relative, truth in truths.items():
        matte = cv2.imread(str(matte_path(root, relative)), cv2.IMREAD_UNCHANGED)
        assert matte.dtype == np.uint8 and matte.shape == (HEIGHT, WIDTH), relative
        assert set(np.unique(matte)) == {0, 255}, relative
        assert hand_iou(matte, truth) >= 0.8, relative
    # Only the mattes, the report and the journal: no CLAD views, and no
    # matte of the listings.
    assert files_below(root / 'masks') == sorted(
        [
            'bicycle_final/100_0.png',
            'bicycle_final/100_1.png',
            'chair_final/200_0.png',
            'chair_final/300_0.png',
            'chair_final/extra/400_0.png',
            JOURNAL_FILE,
            REPORT_FILE,
        ]
    )
    report = read_report(root / 'masks')
    assert report['counts'] == {
        'written': 5,
        'skipped_existing': 0,
        **NO_LISTING_COUNTS,
    }
    assert report['not_images'] == ['Ebay_test.txt', 'Ebay_train.txt']
    # masks/ did not exist yet when the tree was listed.
    assert report['not_listed_folders'] == []
    assert report['parameters']['views'] == 'mattes'
    assert '| not_images | 2 |' in result.stdout
    assert 'Ebay_train.txt' in result.stdout


def test_a_second_run_rewrites_nothing_and_does_not_list_the_masks(run_cli, sop_root):
    root, _ = sop_root
    assert make_mattes(run_cli, root, root / 'masks').status == 0
    written_at = {
        relative: os.stat(matte_path(root, relative)).st_mtime_ns for relative in IMAGES
    }
    result = make_mattes(run_cli, root, root / 'masks')
    assert result.status == 0, result.stderr
    assert {
        relative: os.stat(matte_path(root, relative)).st_mtime_ns for relative in IMAGES
    } == written_at
    # Listing masks/ would add its five .png as images and its report and
    # journal as files that are not images.
    report = read_report(root / 'masks')
    assert report['counts'] == {
        'written': 0,
        'skipped_existing': 5,
        **NO_LISTING_COUNTS,
    }
    assert report['not_listed_folders'] == ['masks']
    assert 'Not listed (make_masks outputs) (1):\n- masks' in result.stdout
    assert not (root / 'masks' / 'masks').exists()


def test_an_out_root_inside_the_tree_is_not_listed_before_it_has_a_journal(
    run_cli, sop_root
):
    root, _ = sop_root
    (root / 'masks').mkdir()
    # Files of someone else's at paths no matte takes: never segmented,
    # never counted, kept.
    preview = root / 'masks' / 'preview.jpg'
    cv2.imwrite(str(preview), draw_square_image(seed=9)[0])
    (root / 'masks' / 'notes.txt').write_text('by hand')
    result = make_mattes(run_cli, root, root / 'masks')
    assert result.status == 0, result.stderr
    report = read_report(root / 'masks')
    assert report['counts'] == {
        'written': 5,
        'skipped_existing': 0,
        **NO_LISTING_COUNTS,
    }
    assert report['not_listed_folders'] == ['masks']
    assert not (root / 'masks' / 'masks').exists()
    assert preview.exists() and (root / 'masks' / 'notes.txt').exists()


def test_a_foreign_file_at_a_matte_path_stops_the_run(run_cli, sop_root):
    root, _ = sop_root
    theirs = matte_path(root, 'chair_final/200_0.JPG')
    theirs.parent.mkdir(parents=True)
    # Of the image's size but with three channels: not a usable matte, so
    # make_masks would have to replace it.
    cv2.imwrite(str(theirs), np.full((HEIGHT, WIDTH, 3), 128, np.uint8))
    before = theirs.read_bytes()
    result = make_mattes(run_cli, root, root / 'masks')
    result.assert_user_error('make_masks', str(theirs), JOURNAL_FILE)
    assert theirs.read_bytes() == before
    assert not (root / 'masks' / 'bicycle_final').exists()


def test_rembg_mattes_keep_the_soft_alpha_and_the_share_rule_thresholds_it(
    run_cli, sop_root, tmp_path, monkeypatch
):
    root, _ = sop_root
    fake_rembg = type(sys)('rembg')
    fake_rembg.new_session = lambda model: f'session of {model}'

    def remove(rgb, session, only_mask):
        # A soft alpha: the red channel, about 30 on the ground and 190 on
        # the rectangle.
        assert session == 'session of u2net' and only_mask
        return rgb[..., 0].copy()

    fake_rembg.remove = remove
    monkeypatch.setitem(sys.modules, 'rembg', fake_rembg)
    result = make_mattes(run_cli, root, root / 'masks', method='rembg')
    assert result.status == 0, result.stderr
    for relative in IMAGES:
        red = cv2.imread(str(root / relative))[..., 2]
        matte = cv2.imread(str(matte_path(root, relative)), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(matte, red)
        assert len(np.unique(matte)) > 2, relative
    # The rectangle is 320 of 2240 pixels (14 %); the soft ground (non-zero
    # everywhere) must not count, so a 50 % minimum rejects every image.
    strict = tmp_path / 'strict_masks'
    result = make_mattes(
        run_cli, root, strict, '--min-mask-share', '0.5', method='rembg'
    )
    assert result.status == 0, result.stderr
    report = read_report(strict)
    # Five images: the mattes of the first run, in masks/ with its journal,
    # are not listed although this run writes elsewhere.
    assert report['rejected_by_rule'] == {'small_mask': 5}
    assert report['not_listed_folders'] == ['masks']
    assert files_below(strict) == sorted([JOURNAL_FILE, REPORT_FILE])


def test_rembg_missing_exits_2_with_install_hint(run_cli, sop_root, monkeypatch):
    root, _ = sop_root
    monkeypatch.setitem(sys.modules, 'rembg', None)
    result = make_mattes(run_cli, root, root / 'masks', method='rembg')
    assert result.status == 2
    assert 'pip install rembg' in result.stderr and 'U2-Net' in result.stderr
    assert not any(name.endswith('.png') for name in files_below(root / 'masks'))


def test_the_mattes_load_through_the_sop_dataset_and_load_foreground_matte(
    run_cli, sop_root
):
    root, truths = sop_root
    assert make_mattes(run_cli, root, root / 'masks').status == 0
    load_matte = LoadForegroundMatte()
    for split, listing in (('train', TRAIN_IMAGES), ('test', TEST_IMAGES)):
        dataset = SOPRetrievalDataset(str(root), split, masks_root='masks')
        assert len(dataset) == len(listing)
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            relative = osp.relpath(info['img_path'], root).replace(os.sep, '/')
            assert info['mask_path'] == str(matte_path(root, relative))
            image = cv2.imread(info['img_path'])
            loaded = load_matte(
                {
                    'img': image,
                    'img_path': info['img_path'],
                    'mask_path': info['mask_path'],
                }
            )
            matte = loaded['fg_matte']
            assert matte.dtype == np.float32 and matte.shape == (HEIGHT, WIDTH)
            assert set(np.unique(matte)) == {0.0, 1.0}
            assert hand_iou(matte, truths[relative]) >= 0.8


def test_mattes_into_the_image_root_itself_are_refused(run_cli, sop_root):
    root, _ = sop_root
    result = make_mattes(run_cli, root, root)
    result.assert_user_error('is or holds IMG_ROOT')
    assert not any(name.endswith('.png') for name in files_below(root))


def test_a_report_from_before_views_reads_as_clad_views(run_cli, sop_root, tmp_path):
    root, _ = sop_root
    out_root = tmp_path / 'clad'
    clad_run = ('data/make_masks.py', root, out_root, '--method', 'grabcut-center')
    assert run_cli(*clad_run, '--workers', '1').status == 0
    report = read_report(out_root)
    del report['parameters']['views']
    (out_root / REPORT_FILE).write_text(json.dumps(report))
    result = run_cli(*clad_run, '--workers', '1')
    assert result.status == 0, result.stderr
    assert read_report(out_root)['counts']['skipped_existing'] == 5
    # Mattes into that OUT_ROOT would share its report with the CLAD views.
    make_mattes(run_cli, root, out_root).assert_user_error('would mix')
