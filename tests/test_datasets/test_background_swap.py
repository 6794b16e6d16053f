import os.path as osp
import re
from collections import Counter

import cv2
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.utils.errors import UserError

HEIGHT, WIDTH = 24, 32
# Created in this order on purpose: labels must follow the sorted order.
POOL_FOLDERS = ('02_c', '00_a', '01_b', '03_d')
IMAGES_PER_CLASS = 2


def donor_image(label, index):
    rng = np.random.default_rng([label, index])
    return rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)


def make_pool(root, folders=POOL_FOLDERS, size=(HEIGHT, WIDTH)):
    """Class folders of lossless random backgrounds, labelled by folder."""
    for folder in folders:
        label = int(folder[:2])
        for index in range(IMAGES_PER_CLASS):
            image = cv2.resize(donor_image(label, index), size[::-1])
            path = root / folder / f'bg_{label}_{index}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), image)
    return str(root)


def ellipse_mask():
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.ellipse(mask, (WIDTH // 2, HEIGHT // 2), (10, 7), 30, 0, 360, 1, -1)
    return mask


def anchor_results(label=1, mask=None, dtype=np.uint8):
    image = np.random.default_rng(99).integers(0, 256, (HEIGHT, WIDTH, 3))
    return dict(
        img=image.astype(dtype),
        img_path=f'data/original/train/{sorted(POOL_FOLDERS)[label]}/x.png',
        gt_label=label,
        fg_mask=ellipse_mask() if mask is None else mask,
    )


def build(pool, **kwargs):
    return TRANSFORMS.build(dict(type='BackgroundSwap', background_root=pool, **kwargs))


@pytest.mark.parametrize('dtype', [np.uint8, np.float32])
def test_hard_paste_keeps_foreground_and_donor_background(tmp_path, dtype):
    swap = build(make_pool(tmp_path))
    results = anchor_results(dtype=dtype)
    anchor, mask = results['img'].copy(), results['fg_mask'].copy()

    results = swap(results)

    positive = results['pos_img']
    donor = cv2.imread(results['pos_bg_path'])
    inside = mask == 1
    assert positive.shape == anchor.shape and positive.dtype == anchor.dtype
    np.testing.assert_array_equal(positive[inside], anchor[inside])
    np.testing.assert_array_equal(positive[~inside], donor[~inside])
    np.testing.assert_array_equal(results['img'], anchor)
    np.testing.assert_array_equal(results['fg_mask'], mask)


def test_labels_follow_sorted_class_folders(tmp_path):
    swap = build(make_pool(tmp_path))

    assert swap.class_folders == ('00_a', '01_b', '02_c', '03_d')
    np.random.seed(0)
    for _ in range(20):
        results = swap(anchor_results(label=1))
        label = results['pos_bg_label']
        assert (
            osp.basename(osp.dirname(results['pos_bg_path']))
            == (swap.class_folders[label])
        )
        stem = osp.splitext(osp.basename(results['pos_bg_path']))[0]
        index = int(stem.split('_')[2])
        outside = ellipse_mask() == 0
        np.testing.assert_array_equal(
            results['pos_img'][outside], donor_image(label, index)[outside]
        )


def test_donor_class_is_never_the_anchors_and_covers_the_others(tmp_path):
    swap = build(make_pool(tmp_path))
    np.random.seed(0)
    draws = 300
    for label in range(len(POOL_FOLDERS)):
        counts = Counter(
            swap(anchor_results(label=label))['pos_bg_label'] for _ in range(draws)
        )
        others = set(range(len(POOL_FOLDERS))) - {label}
        assert set(counts) == others
        # Uniform over the 3 other classes: 100 expected, 60 is 4.9 sigma off.
        assert min(counts.values()) > 60


def test_draws_follow_numpys_global_seed(tmp_path):
    swap = build(make_pool(tmp_path))

    def paths(seed):
        np.random.seed(seed)
        return [swap(anchor_results())['pos_bg_path'] for _ in range(10)]

    assert paths(3) == paths(3)
    assert paths(3) != paths(4)


def test_soft_blend_matches_hand_computed_alpha(tmp_path):
    width, edge, sigma = 64, 32, 2.0
    anchor_value, donor_value = 200, 40
    folder = tmp_path / 'pool'
    for name in ('00_a', '01_b'):
        (folder / name).mkdir(parents=True)
        cv2.imwrite(
            str(folder / name / 'bg.png'),
            np.full((HEIGHT, width, 3), donor_value, np.uint8),
        )
    mask = np.zeros((HEIGHT, width), np.uint8)
    mask[:, :edge] = 1
    swap = build(str(folder), blend='soft', soft_sigma=sigma)
    results = dict(
        img=np.full((HEIGHT, width, 3), anchor_value, np.uint8),
        gt_label=0,
        fg_mask=mask,
    )

    positive = swap(results)['pos_img']

    # Last foreground column: the Gaussian weights of offsets -8..0 (kernel
    # radius 4 sigma) fall on the foreground.
    offsets = np.arange(-8, 9)
    weights = np.exp(-(offsets**2) / (2 * sigma**2))
    alpha = weights[offsets <= 0].sum() / weights.sum()
    expected = alpha * anchor_value + (1 - alpha) * donor_value
    assert 0.55 < alpha < 0.65
    assert abs(int(positive[5, edge - 1, 0]) - expected) <= 1
    assert (positive[:, :10] == anchor_value).all()
    assert (positive[:, -10:] == donor_value).all()
    assert donor_value < positive[5, edge, 0] < anchor_value


def test_random_mode_uses_every_image_recursively_and_labels_minus_one(tmp_path):
    image = np.zeros((8, 8, 3), np.uint8)
    expected = {
        tmp_path / 'top.png',
        tmp_path / 'a' / 'one.JPEG',
        tmp_path / 'a' / 'b' / 'two.jpg',
    }
    for path in expected:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image)
    (tmp_path / 'a' / 'notes.txt').write_text('not an image')
    (tmp_path / '.hidden').mkdir()
    cv2.imwrite(str(tmp_path / '.hidden' / 'skipped.png'), image)
    swap = build(str(tmp_path), background_choice='random')
    results = anchor_results()
    del results['gt_label']

    np.random.seed(0)
    outputs = [swap(dict(results)) for _ in range(60)]

    assert {output['pos_bg_label'] for output in outputs} == {-1}
    assert {output['pos_bg_path'] for output in outputs} == set(map(str, expected))
    assert outputs[0]['pos_img'].shape == (HEIGHT, WIDTH, 3)


def test_donor_of_another_size_is_resized(tmp_path):
    swap = build(make_pool(tmp_path, size=(HEIGHT * 2, WIDTH // 2)))

    positive = swap(anchor_results())['pos_img']

    assert positive.shape == (HEIGHT, WIDTH, 3)


def test_pool_with_one_class_is_an_error_naming_it(tmp_path):
    pool = make_pool(tmp_path, folders=('00_a',))

    with pytest.raises(ValueError, match='at least two') as error:
        build(pool)
    assert pool in str(error.value)


@pytest.mark.parametrize('create', [False, True])
def test_missing_or_empty_pool_is_an_error_naming_it(tmp_path, create):
    pool = tmp_path / 'only_bg_t'
    if create:
        pool.mkdir()

    with pytest.raises(FileNotFoundError, match=re.escape(str(pool))):
        build(str(pool))
    with pytest.raises(FileNotFoundError, match=re.escape(str(pool))):
        build(str(pool), background_choice='random')


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(background_choice='same_class'),
        dict(blend='alpha'),
        dict(blend='soft', soft_sigma=0),
    ],
)
def test_unknown_arguments_are_errors(tmp_path, kwargs):
    with pytest.raises(ValueError):
        build(make_pool(tmp_path), **kwargs)


@pytest.mark.parametrize(
    'key, provider',
    [('fg_mask', 'LoadForegroundMask'), ('img', 'LoadImageFromFile'), ('gt_label', '')],
)
def test_missing_required_key_is_a_clear_key_error(tmp_path, key, provider):
    swap = build(make_pool(tmp_path))
    results = anchor_results()
    del results[key]

    with pytest.raises(UserError) as error:
        swap(results)
    message = str(error.value)
    assert f"BackgroundSwap needs '{key}'" in message
    assert provider in message


def test_mis_sized_mask_is_a_clear_error(tmp_path):
    swap = build(make_pool(tmp_path))
    results = anchor_results(mask=np.ones((HEIGHT, WIDTH + 1), np.uint8))

    with pytest.raises(ValueError) as error:
        swap(results)
    message = str(error.value)
    assert f'fg_mask is {HEIGHT}x{WIDTH + 1}' in message
    assert f'is {HEIGHT}x{WIDTH}' in message
    assert 'before any transform that resizes or crops' in message


def test_pool_not_matching_the_dataset_classes_is_an_error(tmp_path):
    swap = build(make_pool(tmp_path, folders=('00_a', '02_c', '03_d')))
    # 02_c is the pool's class 1 but the dataset's class 2.
    results = anchor_results(label=2)
    with pytest.raises(ValueError, match="'02_c' is class 1"):
        swap(results)
    results = anchor_results(label=3)
    with pytest.raises(ValueError, match='gt_label 3 .* has 3 class folders'):
        swap(results)


def test_an_undecodable_donor_names_its_file(tmp_path):
    pool = make_pool(tmp_path, folders=('00_a', '01_b'))
    for path in (tmp_path / '00_a').iterdir():
        path.write_bytes(b'not an image')
    swap = build(pool)
    with pytest.raises(ValueError, match=r'background donor .*00_a.*cannot be decoded'):
        swap.transform(anchor_results(label=1))
