"""TextureSwap: S-CLAD's weight-free positive, the anchor's shape in a donor texture."""

import os.path as osp
import re
from collections import Counter

import cv2
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

from clad_mm.datasets.transforms.texture_swap import TextureSwap
from clad_mm.datasets.transforms.two_view_pipeline import TwoViewPipeline
from clad_mm.utils.errors import UserError

HEIGHT, WIDTH = 24, 32
# Created in this order on purpose: labels must follow the sorted order.
POOL_FOLDERS = ('02_c', '00_a', '01_b', '03_d')
SORTED_FOLDERS = ('00_a', '01_b', '02_c', '03_d')
IMAGES_PER_CLASS = 2


def texture_image(label, index):
    rng = np.random.default_rng([label, index])
    return rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)


def make_pool(root, folders=POOL_FOLDERS):
    """Class folders of lossless random textures, ``tex_<label>_<index>.png``."""
    for folder in folders:
        label = int(folder[:2])
        for index in range(IMAGES_PER_CLASS):
            path = root / folder / f'tex_{label}_{index}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), texture_image(label, index))
    return str(root)


def texture_of(path):
    """The texture a pool file was written from, known from its name."""
    _, label, index = osp.splitext(osp.basename(path))[0].split('_')
    return texture_image(int(label), int(index))


def ellipse_mask():
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.ellipse(mask, (WIDTH // 2, HEIGHT // 2), (10, 7), 30, 0, 360, 1, -1)
    return mask


def anchor_results(label=1, mask=None, dtype=np.uint8):
    image = np.random.default_rng(99).integers(0, 256, (HEIGHT, WIDTH, 3))
    return dict(
        img=image.astype(dtype),
        img_path=f'data/original/train/{SORTED_FOLDERS[label]}/x.png',
        gt_label=label,
        fg_mask=ellipse_mask() if mask is None else mask,
    )


@pytest.mark.parametrize('dtype', [np.uint8, np.float32])
def test_hard_swap_keeps_outside_and_takes_donor_texture_inside(tmp_path, dtype):
    swap = TextureSwap(make_pool(tmp_path))
    np.random.seed(0)
    for _ in range(10):
        results = anchor_results(dtype=dtype)
        anchor, mask = results['img'].copy(), results['fg_mask'].copy()

        results = swap(results)

        positive = results['pos_img']
        inside = mask == 1
        assert positive.shape == anchor.shape and positive.dtype == anchor.dtype
        np.testing.assert_array_equal(positive[~inside], anchor[~inside])
        np.testing.assert_array_equal(
            positive[inside], texture_of(results['pos_texture_path'])[inside]
        )
        np.testing.assert_array_equal(results['img'], anchor)
        np.testing.assert_array_equal(results['fg_mask'], mask)


def test_texture_label_is_the_class_folder_of_the_donor_used(tmp_path):
    swap = TextureSwap(make_pool(tmp_path))
    assert swap.class_folders == SORTED_FOLDERS
    np.random.seed(1)
    for _ in range(30):
        results = swap(anchor_results(label=2))
        path = results['pos_texture_path']
        folder = osp.basename(osp.dirname(path))
        assert results['pos_texture_label'] == SORTED_FOLDERS.index(folder)
        assert results['pos_texture_label'] == int(osp.basename(path).split('_')[1])
        assert results['pos_texture_label'] != 2


def test_texture_class_covers_every_other_class_and_never_the_anchors(tmp_path):
    swap = TextureSwap(make_pool(tmp_path))
    np.random.seed(0)
    draws = 300
    for label in range(len(SORTED_FOLDERS)):
        counts = Counter(
            swap(anchor_results(label=label))['pos_texture_label'] for _ in range(draws)
        )
        assert set(counts) == set(range(len(SORTED_FOLDERS))) - {label}
        # Uniform over the 3 other classes: 100 expected, 60 is 4.9 sigma off.
        assert min(counts.values()) > 60


def test_soft_swap_is_exact_beyond_the_blur_support(tmp_path):
    sigma = 1.5
    # A pixel more than 4 * sigma + 1 pixels away (Chebyshev distance) from
    # the other region; the square dilation measures that distance.
    reach = int(4 * sigma + 1)
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    mask = np.zeros((HEIGHT * 2, WIDTH * 2), np.uint8)
    mask[8:40, 12:52] = 1
    rng = np.random.default_rng(5)
    anchor = rng.integers(0, 256, (*mask.shape, 3), np.uint8)
    texture = rng.integers(0, 256, (*mask.shape, 3), np.uint8)
    for folder in ('00_a', '01_b'):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / 'tex.png'), texture)
    swap = TextureSwap(str(tmp_path), blend='soft', soft_sigma=sigma)

    positive = swap(dict(img=anchor.copy(), fg_mask=mask, gt_label=0))['pos_img']

    far_outside = cv2.dilate(mask, kernel) == 0
    far_inside = cv2.dilate(1 - mask, kernel) == 0
    assert far_outside.sum() > 0 and far_inside.sum() > 0
    np.testing.assert_array_equal(positive[far_outside], anchor[far_outside])
    np.testing.assert_array_equal(positive[far_inside], texture[far_inside])
    # Near the outline the two are blended, so the result is neither.
    seam = ~far_outside & ~far_inside
    hard = np.where(mask[..., None] == 1, texture, anchor)
    assert (positive[seam] != hard[seam]).any(axis=-1).mean() > 0.5


def test_soft_swap_weights_the_texture_by_the_blurred_mask(tmp_path):
    width, edge, sigma = 64, 32, 2.0
    anchor_value, texture_value = 200, 40
    for folder in ('00_a', '01_b'):
        (tmp_path / folder).mkdir()
        cv2.imwrite(
            str(tmp_path / folder / 'tex.png'),
            np.full((HEIGHT, width, 3), texture_value, np.uint8),
        )
    mask = np.zeros((HEIGHT, width), np.uint8)
    mask[:, :edge] = 1
    swap = TextureSwap(str(tmp_path), blend='soft', soft_sigma=sigma)
    results = dict(
        img=np.full((HEIGHT, width, 3), anchor_value, np.uint8),
        gt_label=0,
        fg_mask=mask,
    )

    positive = swap(results)['pos_img']

    # Last foreground column: the Gaussian weights of offsets -8..0 (kernel
    # radius 4 sigma) fall on the foreground, which takes the texture.
    offsets = np.arange(-8, 9)
    weights = np.exp(-(offsets**2) / (2 * sigma**2))
    alpha = weights[offsets <= 0].sum() / weights.sum()
    expected = alpha * texture_value + (1 - alpha) * anchor_value
    assert abs(int(positive[5, edge - 1, 0]) - expected) <= 1
    assert (positive[:, :10] == texture_value).all()
    assert (positive[:, -10:] == anchor_value).all()


def test_random_mode_draws_any_image_and_labels_minus_one(tmp_path):
    expected = {tmp_path / 'top.png', tmp_path / 'a' / 'b' / 'deep.jpg'}
    for path in expected:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    swap = TextureSwap(str(tmp_path), texture_choice='random')
    results = anchor_results()
    del results['gt_label']

    np.random.seed(0)
    outputs = [swap(dict(results)) for _ in range(40)]

    assert {output['pos_texture_label'] for output in outputs} == {-1}
    assert {output['pos_texture_path'] for output in outputs} == set(map(str, expected))
    # The 8x8 black texture is resized to the anchor and fills the mask.
    inside = ellipse_mask() == 1
    assert (outputs[0]['pos_img'][inside] == 0).all()
    assert outputs[0]['pos_img'].shape == (HEIGHT, WIDTH, 3)


def test_pool_with_one_class_is_an_error_naming_it(tmp_path):
    pool = make_pool(tmp_path, folders=('00_a',))

    with pytest.raises(ValueError, match='at least two') as error:
        TextureSwap(pool)
    message = str(error.value)
    assert pool in message and 'texture pool' in message


def test_missing_pool_is_an_error_naming_it(tmp_path):
    pool = str(tmp_path / 'only_texture')
    with pytest.raises(FileNotFoundError, match=re.escape(pool)):
        TextureSwap(pool)


@pytest.mark.parametrize(
    'kwargs', [dict(texture_choice='same_class'), dict(blend='alpha')]
)
def test_unknown_arguments_are_errors(tmp_path, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        TextureSwap(make_pool(tmp_path), **kwargs)


def test_mis_sized_mask_is_a_clear_error(tmp_path):
    swap = TextureSwap(make_pool(tmp_path))
    results = anchor_results(mask=np.ones((HEIGHT + 1, WIDTH), np.uint8))

    with pytest.raises(ValueError) as error:
        swap(results)
    message = str(error.value)
    assert f'fg_mask is {HEIGHT + 1}x{WIDTH}' in message
    assert f'is {HEIGHT}x{WIDTH}' in message
    assert 'TextureSwap before any transform that resizes or crops' in message


@pytest.mark.parametrize(
    'key, provider', [('fg_mask', 'LoadForegroundMask'), ('img', 'LoadImageFromFile')]
)
def test_missing_required_key_names_the_transform_that_adds_it(tmp_path, key, provider):
    swap = TextureSwap(make_pool(tmp_path))
    results = anchor_results()
    del results[key]

    with pytest.raises(UserError, match=f"TextureSwap needs '{key}'.*{provider}"):
        swap(results)


def test_pool_not_matching_the_dataset_classes_is_an_error(tmp_path):
    swap = TextureSwap(make_pool(tmp_path, folders=('00_a', '02_c', '03_d')))
    with pytest.raises(ValueError, match="'02_c' is class 1 of the texture pool"):
        swap(anchor_results(label=2))


def test_output_packs_through_two_views_with_the_texture_key(tmp_path):
    pipeline = [
        TextureSwap(make_pool(tmp_path)),
        TwoViewPipeline(anchor_pipeline=[dict(type='RandomResizedCrop', scale=16)]),
        TRANSFORMS.build(
            dict(type='PackInputs', algorithm_keys=('pos_texture_label',))
        ),
    ]
    results = anchor_results(label=3)
    for transform in pipeline:
        results = transform(results)

    anchor, positive = results['inputs']
    assert anchor.shape == positive.shape == (3, 16, 16)
    label = results['data_samples'].pos_texture_label
    assert label in (0, 1, 2)
