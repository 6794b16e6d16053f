import cv2
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import clad_mm  # noqa: F401  (registers the components)

HEIGHT, WIDTH = 12, 16


def drawn_mask(height=HEIGHT, width=WIDTH):
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(
        mask, (width // 2, height // 2), (width // 3, height // 4), 20, 0, 360, 1, -1
    )
    return mask


def load_mask(path, source='mask', height=HEIGHT, width=WIDTH, **kwargs):
    transform = TRANSFORMS.build(dict(type='LoadForegroundMask', **kwargs))
    results = dict(
        img=np.zeros((height, width, 3), np.uint8),
        img_path='image.JPEG',
        fg_mask_path=str(path),
        fg_mask_source=source,
    )
    return transform(results)['fg_mask']


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize('dtype', [np.uint8, np.int64, np.float32, bool])
def test_npy_mask(tmp_path, dtype):
    mask = drawn_mask()
    np.save(tmp_path / 'mask.npy', mask.astype(dtype))

    loaded = load_mask(tmp_path / 'mask.npy')

    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, mask)


@pytest.mark.parametrize('foreground_value', [1, 255])
def test_png_mask(tmp_path, foreground_value):
    mask = drawn_mask()
    cv2.imwrite(str(tmp_path / 'mask.png'), mask * foreground_value)

    np.testing.assert_array_equal(load_mask(tmp_path / 'mask.png'), mask)


def test_grabcut_mask_survives_jpeg_halos(tmp_path):
    size = 128
    mask = drawn_mask(size, size)
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
    texture = cv2.resize(texture, (size, size), interpolation=cv2.INTER_CUBIC)
    # Keep the object clear of the threshold, as for real objects' pixels.
    grabcut = np.maximum(texture, 40) * mask[..., None]
    path = tmp_path / 'grabcut.JPEG'
    cv2.imwrite(str(path), grabcut, [cv2.IMWRITE_JPEG_QUALITY, 90])
    decoded = cv2.imread(str(path))
    assert (decoded.max(axis=2)[mask == 0] > 0).any(), 'the JPEG has no halo'

    loaded = load_mask(path, 'grabcut', size, size)
    exactly_black = load_mask(path, 'grabcut', size, size, grabcut_threshold=0)

    assert set(np.unique(loaded)) == {0, 1}
    assert iou(loaded, mask) > 0.9
    assert iou(exactly_black, mask) < 0.8


def test_mask_size_must_match_image(tmp_path):
    np.save(tmp_path / 'mask.npy', np.ones((HEIGHT, WIDTH + 1), np.uint8))

    with pytest.raises(ValueError) as error:
        load_mask(tmp_path / 'mask.npy')
    message = str(error.value)
    assert f'{tmp_path}/mask.npy is 12x17' in message
    assert 'image.JPEG is 12x16' in message


@pytest.mark.parametrize(
    'name, source',
    [('mask.npy', 'mask'), ('mask.png', 'mask'), ('grabcut.JPEG', 'grabcut')],
)
def test_corrupt_file_is_named(tmp_path, name, source):
    (tmp_path / name).write_bytes(b'garbage' * 20)

    with pytest.raises(ValueError, match=f'Cannot .* {tmp_path}/{name}'):
        load_mask(tmp_path / name, source)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'{tmp_path}/absent.png'):
        load_mask(tmp_path / 'absent.png')


def test_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / 'mask.npy', np.array([{'a': 1}], dtype=object))

    with pytest.raises(ValueError, match=f'{tmp_path}/mask.npy: .*pickle'):
        load_mask(tmp_path / 'mask.npy')


@pytest.mark.parametrize(
    'mask, problem',
    [
        (np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH) % 3, 'is not binary'),
        (np.full((HEIGHT, WIDTH), 2) - np.eye(HEIGHT, WIDTH), 'is not binary'),
        (np.ones((HEIGHT, WIDTH, 3)), 'expected a single-channel'),
    ],
)
def test_mask_that_is_not_binary_hxw_is_refused(tmp_path, mask, problem):
    np.save(tmp_path / 'mask.npy', mask)

    with pytest.raises(ValueError, match=f'{tmp_path}/mask.npy .*{problem}'):
        load_mask(tmp_path / 'mask.npy')


def test_unknown_mask_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="got 'polygon'"):
        load_mask(tmp_path / 'mask.npy', 'polygon')


def test_background_is_loaded_like_an_image(tmp_path):
    background = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'bg.png'), background)
    transform = TRANSFORMS.build(dict(type='LoadBackgroundFromFile'))

    results = transform(dict(bg_path=str(tmp_path / 'bg.png'), img_shape=(5, 5)))

    np.testing.assert_array_equal(results['bg_img'], background)
    assert results['img_shape'] == (5, 5)
    assert 'img' not in results


@pytest.mark.parametrize(
    'transform_type, key',
    [
        ('LoadBackgroundFromFile', 'bg_path'),
        ('LoadImageFromFile', 'img_path'),
    ],
)
def test_unreadable_images_are_named(tmp_path, transform_type, key):
    transform = TRANSFORMS.build(dict(type=transform_type))
    corrupt = tmp_path / 'corrupt.JPEG'
    corrupt.write_bytes(b'\xff\xd8\xff' + b'garbage' * 20)

    with pytest.raises(FileNotFoundError, match=f'{tmp_path}/absent.JPEG'):
        transform({key: str(tmp_path / 'absent.JPEG')})
    with pytest.raises(AssertionError, match=f'failed to load image: {corrupt}'):
        transform({key: str(corrupt)})
