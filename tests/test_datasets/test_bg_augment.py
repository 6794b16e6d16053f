"""BGAugment and LoadForegroundMatte: the soft composite, the draws, the errors."""

import cv2
import numpy as np
import pytest

from clad_mm.datasets.transforms import (
    ApplyToReplacedCopies,
    BGAugment,
    LoadForegroundMatte,
)
from clad_mm.utils.errors import UserError
from clad_mm.utils.random_state import seeded_global_generators


def write_pool(folder, colours):
    folder.mkdir(parents=True, exist_ok=True)
    for index, colour in enumerate(colours):
        # PNG: lossless, so a uniform background stays exactly uniform.
        cv2.imwrite(
            str(folder / f'bg_{index}.png'), np.full((40, 50, 3), colour, np.uint8)
        )
    return str(folder)


def sample(image, matte, **extra):
    return {'img': image, 'fg_matte': matte, 'img_path': 'x.jpg', **extra}


def test_composite_is_matte_weighted_sum_with_the_drawn_background(tmp_path):
    pool = write_pool(tmp_path / 'pool', [(10, 200, 30)])
    image = np.full((8, 6, 3), 100, np.uint8)
    matte = np.zeros((8, 6), np.float32)
    matte[2:6, 1:5] = 1.0
    matte[0, 0] = 0.25
    out = BGAugment(pool)(sample(image, matte))['img']
    background = np.array([10, 200, 30], np.float32)
    expected = matte[..., None] * 100 + (1 - matte[..., None]) * background
    # cv2.blendLinear rounds; allow one grey level.
    assert np.abs(out.astype(np.float32) - expected).max() <= 1.0
    assert (out[3, 2] == 100).all() and (out[7, 5] == background).all()


def test_background_draws_are_uniform_with_replacement(tmp_path):
    colours = [(0, 0, 0), (60, 60, 60), (120, 120, 120), (180, 180, 180)]
    pool = write_pool(tmp_path / 'pool', colours)
    transform = BGAugment(pool)
    image = np.zeros((4, 4, 3), np.uint8)
    matte = np.zeros((4, 4), np.float32)
    drawn = []
    with seeded_global_generators(0):
        for _ in range(400):
            drawn.append(int(transform(sample(image, matte))['img'][0, 0, 0]))
    counts = np.bincount([c // 60 for c in drawn], minlength=4)
    # 100 expected per background; 5 sigma of a binomial(400, 1/4) is 43.
    assert counts.min() > 57 and counts.max() < 143


def test_background_is_cropped_and_flipped_like_a_training_image(tmp_path):
    # A horizontal gradient: a crop shows a sub-range, a flip reverses it.
    folder = tmp_path / 'pool'
    folder.mkdir()
    gradient = np.tile(
        np.linspace(0, 250, 100).astype(np.uint8)[None, :, None], (60, 1, 3)
    )
    cv2.imwrite(str(folder / 'g.png'), gradient)
    transform = BGAugment(str(folder))
    image = np.zeros((16, 16, 3), np.uint8)
    matte = np.zeros((16, 16), np.float32)
    rows, flipped = set(), 0
    with seeded_global_generators(1):
        for _ in range(40):
            row = transform(sample(image, matte))['img'][8, :, 0].astype(int)
            rows.add((row[0], row[-1]))
            flipped += int(row[0] > row[-1])
    assert len(rows) > 20  # random crops, not one fixed view
    assert 8 <= flipped <= 32  # flip probability 0.5


def test_seeded_samples_draw_the_same_composite(tmp_path):
    pool = write_pool(tmp_path / 'pool', [(i * 20, 0, 0) for i in range(10)])
    transform = BGAugment(pool)
    image = np.full((8, 8, 3), 255, np.uint8)
    matte = np.zeros((8, 8), np.float32)
    first = transform(sample(image, matte, bg_seed=7))['img']
    np.random.rand(5)  # the global state must not matter
    again = transform(sample(image, matte, bg_seed=7))['img']
    np.testing.assert_array_equal(first, again)
    others = {
        transform(sample(image, matte, bg_seed=s))['img'][0, 0, 0] for s in range(30)
    }
    assert len(others) > 1


def test_only_replaced_copies_are_composited(tmp_path):
    pool = write_pool(tmp_path / 'pool', [(0, 0, 0)])
    wrapper = ApplyToReplacedCopies(
        [dict(type='LoadForegroundMatte'), dict(type='BGAugment', background_root=pool)]
    )
    image = np.full((4, 4, 3), 200, np.uint8)
    matte_path = str(tmp_path / 'm.png')
    cv2.imwrite(matte_path, np.zeros((4, 4), np.uint8))
    # A clean copy and an inference image (no bg_draw) need no matte.
    for clean in ({'img': image.copy(), 'bg_draw': -1}, {'img': image.copy()}):
        np.testing.assert_array_equal(wrapper(clean)['img'], image)
        assert 'fg_matte' not in clean
    copy = wrapper(
        {'img': image.copy(), 'bg_draw': 0, 'bg_seed': 3, 'mask_path': matte_path}
    )
    assert (copy['img'] == 0).all()


def test_a_missing_pool_is_only_needed_by_replaced_copies(tmp_path):
    # An inferencer's pipeline (no bg_draw) works without the test pool.
    wrapper = ApplyToReplacedCopies(
        [
            dict(type='LoadForegroundMatte'),
            dict(type='BGAugment', background_root=str(tmp_path / 'missing')),
        ]
    )
    image = np.zeros((4, 4, 3), np.uint8)
    assert wrapper({'img': image})['img'] is image
    with pytest.raises(UserError, match='missing does not exist'):
        wrapper({'img': image, 'bg_draw': 0, 'mask_path': 'm.png'})


def test_prob_zero_keeps_the_image(tmp_path):
    pool = write_pool(tmp_path / 'pool', [(0, 0, 0)])
    image = np.full((4, 4, 3), 9, np.uint8)
    out = BGAugment(pool, prob=0.0)(sample(image, np.zeros((4, 4), np.float32)))
    np.testing.assert_array_equal(out['img'], image)


def test_bad_pools_and_inputs_are_named(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(UserError, match='empty holds no background image'):
        BGAugment(str(empty))
    with pytest.raises(UserError, match='missing'):
        BGAugment(str(tmp_path / 'missing'))
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'bad.jpg').write_bytes(b'not a jpeg')
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(UserError, match=r'bad\.jpg: cannot be decoded'):
        BGAugment(str(broken))(sample(image, np.zeros((4, 4), np.float32)))
    pool = write_pool(tmp_path / 'pool', [(0, 0, 0)])
    with pytest.raises(UserError, match=r'fg_matte is 3x4.*x\.jpg\) is 4x4'):
        BGAugment(pool)(sample(image, np.zeros((3, 4), np.float32)))
    with pytest.raises(UserError, match="needs 'fg_matte'.*LoadForegroundMatte"):
        BGAugment(pool)({'img': image})
    with pytest.raises(UserError, match=r'prob must lie in \[0, 1\], got 1.5'):
        BGAugment(pool, prob=1.5)


@pytest.mark.parametrize(
    'write, expected',
    [
        (
            lambda p: cv2.imwrite(
                p + '.png', np.array([[0, 51], [255, 102]], np.uint8)
            ),
            [[0, 0.2], [1, 0.4]],
        ),
        (
            lambda p: cv2.imwrite(
                p + '.png', np.array([[0, 65535], [13107, 0]], np.uint16)
            ),
            [[0, 1], [0.2, 0]],
        ),
        (
            lambda p: np.save(
                p + '.npy', np.array([[0.5, 1.0], [0.0, 0.25]], np.float32)
            ),
            [[0.5, 1], [0, 0.25]],
        ),
        (
            lambda p: np.save(p + '.npy', np.array([[True, False], [False, True]])),
            [[1, 0], [0, 1]],
        ),
    ],
    ids=['png8', 'png16', 'npy-float', 'npy-bool'],
)
def test_matte_files_read_as_weights(tmp_path, write, expected):
    stem = str(tmp_path / 'm')
    write(stem)
    path = stem + ('.png' if (tmp_path / 'm.png').exists() else '.npy')
    out = LoadForegroundMatte()(
        {'img': np.zeros((2, 2, 3), np.uint8), 'mask_path': path, 'img_path': 'i.jpg'}
    )
    np.testing.assert_allclose(
        out['fg_matte'], np.array(expected, np.float32), atol=1e-6
    )
    assert out['fg_matte'].dtype == np.float32


def test_matte_mistakes_are_named(tmp_path):
    image = np.zeros((2, 2, 3), np.uint8)
    colour = str(tmp_path / 'rgb.png')
    cv2.imwrite(colour, np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(
        UserError, match=r'rgb\.png: a foreground matte must have one channel'
    ):
        LoadForegroundMatte()({'img': image, 'mask_path': colour})
    small = str(tmp_path / 'small.png')
    cv2.imwrite(small, np.zeros((1, 2), np.uint8))
    with pytest.raises(UserError, match=r'small\.png is 1x2.*i\.jpg is 2x2'):
        LoadForegroundMatte()({'img': image, 'mask_path': small, 'img_path': 'i.jpg'})
    out_of_range = str(tmp_path / 'big.npy')
    np.save(out_of_range, np.full((2, 2), 2.0))
    with pytest.raises(UserError, match=r'big\.npy: matte values must lie in \[0, 1\]'):
        LoadForegroundMatte()({'img': image, 'mask_path': out_of_range})
    with pytest.raises(UserError, match="needs 'mask_path'.*masks_root"):
        LoadForegroundMatte()({'img': image})
