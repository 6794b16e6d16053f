"""FiveCrop views and accuracy under positional shift."""

import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as tvf

from clad_mm.analysis.positional_shift import (
    FIVE_CROP_POSITIONS,
    VIEWS,
    crop_size,
    five_crop,
    format_positional_shift_table,
    positional_shift_accuracies,
    positional_views,
    predict_positional_views,
)


def quadrant_image(values, side=8):
    """A side x side x 3 image whose four quadrants are constant."""
    half = side // 2
    image = np.empty((side, side, 3), np.uint8)
    image[:half, :half] = values[0]
    image[:half, half:] = values[1]
    image[half:, :half] = values[2]
    image[half:, half:] = values[3]
    return image


def test_five_crop_equals_slicing_by_hand():
    image = np.arange(6 * 8 * 3).reshape(6, 8, 3)
    crops = five_crop(image, 4, 5)
    assert list(crops) == list(FIVE_CROP_POSITIONS)
    # Centre offsets: round((6 - 4) / 2) = 1 row, round((8 - 5) / 2) = 2
    # columns (Python rounds 1.5 to 2).
    expected = {
        'top_left': image[0:4, 0:5],
        'top_right': image[0:4, 3:8],
        'bottom_left': image[2:6, 0:5],
        'bottom_right': image[2:6, 3:8],
        'center': image[1:5, 2:7],
    }
    for position, crop in expected.items():
        np.testing.assert_array_equal(crops[position], crop)


@pytest.mark.parametrize('shape,crop', [((6, 8), (4, 5)), ((7, 9), (4, 4))])
def test_five_crop_matches_torchvision(shape, crop):
    image = np.arange(shape[0] * shape[1] * 3).reshape(*shape, 3)
    ours = five_crop(image, *crop)
    theirs = tvf.five_crop(torch.from_numpy(image).permute(2, 0, 1), list(crop))
    for position, tensor in zip(FIVE_CROP_POSITIONS, theirs):
        np.testing.assert_array_equal(ours[position], tensor.permute(1, 2, 0).numpy())


def test_five_crop_rejects_a_crop_larger_than_the_image():
    with pytest.raises(ValueError, match='fit in the 6x8 image'):
        five_crop(np.zeros((6, 8)), 7, 5)


def test_crop_size_rounds_and_checks_the_fraction():
    assert crop_size((224, 224, 3), 0.75) == (168, 168)
    assert crop_size((10, 30), 0.5) == (5, 15)
    with pytest.raises(ValueError, match='crop_fraction'):
        crop_size((10, 10), 1.5)


def test_positional_views_resize_each_crop_back():
    image = quadrant_image([10, 20, 30, 40])
    views = positional_views(image, crop_fraction=0.5)
    assert list(views) == list(VIEWS)
    np.testing.assert_array_equal(views['full'], image)
    # A half-size corner crop is one constant quadrant, whatever the
    # interpolation used to resize it back.
    for position, value in zip(FIVE_CROP_POSITIONS[:4], [10, 20, 30, 40]):
        assert views[position].shape == image.shape
        assert np.all(views[position] == value)
    # The centre crop holds a 2 x 2 block of each quadrant.
    assert views['center'].shape == image.shape
    assert views['center'].mean() == pytest.approx(25, abs=0.5)


def test_positional_views_with_the_whole_image_are_the_image():
    image = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    for view in positional_views(image, crop_fraction=1.0).values():
        np.testing.assert_array_equal(view, image)


def test_positional_shift_accuracies_by_hand():
    labels = [0, 1, 2, 3]
    predictions = {
        'full': [0, 1, 2, 0],  # 3 of 4
        'top_left': [0, 0, 0, 0],  # 1 of 4
        'center': [0, 1, 2, 3],  # 4 of 4
    }
    results = positional_shift_accuracies(labels, predictions)
    assert results['accuracy'] == pytest.approx(
        {'full': 75.0, 'top_left': 25.0, 'center': 100.0}
    )
    assert results['drop'] == pytest.approx({'top_left': 50.0, 'center': -25.0})
    assert results['mean_crop_accuracy'] == pytest.approx(62.5)
    assert results['mean_crop_drop'] == pytest.approx(12.5)
    table = format_positional_shift_table(results)
    assert '| top_left | 25.00 | 50.00 |' in table
    assert '| mean of the crops | 62.50 | 12.50 |' in table


def test_positional_shift_accuracies_needs_the_full_view():
    with pytest.raises(KeyError, match='full'):
        positional_shift_accuracies([0], {'center': [0]})
    with pytest.raises(ValueError, match="'center' has 2 predictions for 1"):
        positional_shift_accuracies([0], {'full': [0], 'center': [0, 1]})


@pytest.mark.parametrize('images_per_call', [1, 2, 3])
def test_predict_positional_views_keeps_images_and_views_apart(
    tmp_path, images_per_call
):
    quadrants = [[10, 20, 30, 40], [110, 120, 130, 140], [60, 70, 80, 90]]
    paths = []
    for number, values in enumerate(quadrants):
        path = str(tmp_path / f'image_{number}.png')
        cv2.imwrite(path, quadrant_image(values))
        paths.append(path)
    calls = []

    def predict(images):
        calls.append(len(images))
        return np.array([int(round(image.mean())) for image in images])

    predictions = predict_positional_views(
        paths,
        predict,
        crop_fraction=0.5,
        images_per_call=images_per_call,
        show_progress=False,
    )

    assert sum(calls) == len(VIEWS) * len(paths)
    assert max(calls) == len(VIEWS) * images_per_call
    for row, values in enumerate(quadrants):
        assert predictions['full'][row] == pytest.approx(np.mean(values), abs=1)
        assert predictions['center'][row] == pytest.approx(np.mean(values), abs=1)
        for position, value in zip(FIVE_CROP_POSITIONS[:4], values):
            assert predictions[position][row] == value


def test_predict_positional_views_names_an_unreadable_image(tmp_path):
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='broken.png'):
        predict_positional_views([str(broken)], lambda images: [0], show_progress=False)
