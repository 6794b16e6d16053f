"""Accuracy under positional shift: the full image vs. its five crops.

From CLAD (BMVC 2022), supplementary Table 6: a classifier that relies on
the object, wherever it is, should keep its accuracy when the image is
cropped towards a corner (the object moves off-centre, part of the
background is lost) and the crop is resized back to the input size. Every
image is classified whole and as each of the five crops of torchvision's
``FiveCrop`` (four corners and the centre); the accuracy of each crop
position and its drop from the full-image accuracy are reported.
"""

from collections.abc import Callable, Sequence

import mmcv
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import read_image

#: Crop positions in torchvision ``FiveCrop``'s order.
FIVE_CROP_POSITIONS = ('top_left', 'top_right', 'bottom_left', 'bottom_right', 'center')
#: The uncropped image.
FULL_VIEW = 'full'
#: Every view an image is classified in.
VIEWS = (FULL_VIEW, *FIVE_CROP_POSITIONS)
#: Crop side as a fraction of the image side. The supplementary does not give
#: its crop size; 0.75 moves an object centred in the image a quarter of the
#: crop off-centre in the corner crops.
DEFAULT_CROP_FRACTION = 0.75


def five_crop(image: np.ndarray, crop_height: int, crop_width: int) -> dict:
    """The four corner crops and the centre crop of an image.

    Offsets follow torchvision's ``FiveCrop``: the centre crop starts at
    ``round((H - h) / 2)`` rows and ``round((W - w) / 2)`` columns.

    Args:
        image (np.ndarray): H x W (x C) image.
        crop_height (int): Crop height, at most H.
        crop_width (int): Crop width, at most W.

    Returns:
        dict[str, np.ndarray]: Crops (views into ``image``) by position
        (:data:`FIVE_CROP_POSITIONS`).
    """
    height, width = image.shape[:2]
    if not (0 < crop_height <= height and 0 < crop_width <= width):
        raise ValueError(
            f'crop {crop_height}x{crop_width} must be non-empty and fit in the '
            f'{height}x{width} image'
        )
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    bottom, right = height - crop_height, width - crop_width
    return {
        'top_left': image[:crop_height, :crop_width],
        'top_right': image[:crop_height, right:],
        'bottom_left': image[bottom:, :crop_width],
        'bottom_right': image[bottom:, right:],
        'center': image[top : top + crop_height, left : left + crop_width],
    }


def crop_size(image_shape: Sequence[int], crop_fraction: float) -> tuple:
    """Crop height and width for a fraction of the image's sides.

    Args:
        image_shape (Sequence[int]): ``(H, W, ...)``.
        crop_fraction (float): In (0, 1].

    Returns:
        tuple[int, int]: ``(round(H * fraction), round(W * fraction))``, at
        least one pixel each.
    """
    if not 0 < crop_fraction <= 1:
        raise UserError(f'crop_fraction must be in (0, 1], got {crop_fraction}')
    height, width = image_shape[:2]
    return (
        max(1, int(round(height * crop_fraction))),
        max(1, int(round(width * crop_fraction))),
    )


def positional_views(image: np.ndarray, crop_fraction: float) -> dict:
    """The full image and its five crops, each resized to the image's size.

    Crops are resized bilinearly, MMPretrain's default interpolation.

    Args:
        image (np.ndarray): H x W x C image.
        crop_fraction (float): Crop side as a fraction of the image side.

    Returns:
        dict[str, np.ndarray]: Views by name (:data:`VIEWS`), all H x W x C.
    """
    height, width = image.shape[:2]
    crops = five_crop(image, *crop_size(image.shape, crop_fraction))
    views = {FULL_VIEW: image}
    for position, crop in crops.items():
        views[position] = mmcv.imresize(crop, (width, height), interpolation='bilinear')
    return views


def positional_shift_accuracies(labels: Sequence[int], predictions: dict) -> dict:
    """Accuracy of every view and its drop from the full-image accuracy.

    Args:
        labels (Sequence[int]): True class of each image.
        predictions (dict[str, Sequence[int]]): Predicted classes of the
            images in each view; must hold :data:`FULL_VIEW`.

    Returns:
        dict: ``accuracy`` (% by view), ``drop`` (full minus view, in
        points, by crop position), ``mean_crop_accuracy`` and
        ``mean_crop_drop`` (over the crop positions present).
    """
    labels = np.asarray(labels)
    if FULL_VIEW not in predictions:
        raise KeyError(f'predictions must hold the {FULL_VIEW!r} view')
    accuracy = {}
    for view in [view for view in VIEWS if view in predictions]:
        predicted = np.asarray(predictions[view])
        if predicted.shape != labels.shape or labels.size == 0:
            raise ValueError(
                f'view {view!r} has {predicted.size} predictions for '
                f'{labels.size} labels'
            )
        accuracy[view] = 100.0 * float(np.mean(predicted == labels))
    drop = {
        view: accuracy[FULL_VIEW] - value
        for view, value in accuracy.items()
        if view != FULL_VIEW
    }
    crop_accuracies = [accuracy[view] for view in drop]
    mean_crop_accuracy = float(np.mean(crop_accuracies)) if crop_accuracies else None
    return dict(
        accuracy=accuracy,
        drop=drop,
        mean_crop_accuracy=mean_crop_accuracy,
        mean_crop_drop=None
        if mean_crop_accuracy is None
        else accuracy[FULL_VIEW] - mean_crop_accuracy,
    )


def predict_positional_views(
    image_paths: Sequence[str],
    predict: Callable[[list], np.ndarray],
    crop_fraction: float = DEFAULT_CROP_FRACTION,
    images_per_call: int = 32,
    show_progress: bool = True,
) -> dict:
    """Classifies every image in full and in its five resized crops.

    Images are read as BGR (:func:`clad_mm.utils.fileio.read_image`, as
    ``LoadImageFromFile`` does) and handled ``images_per_call`` at a time,
    so memory stays flat.

    Args:
        image_paths (Sequence[str]): Images to classify.
        predict (Callable[[list[np.ndarray]], np.ndarray]): Predicted class
            of each BGR image of a list.
        crop_fraction (float): Crop side as a fraction of the image side.
        images_per_call (int): Images whose six views go to one ``predict``
            call.
        show_progress (bool): Show a progress bar with ETA over images.

    Returns:
        dict[str, np.ndarray]: Predicted classes of the images by view.

    Raises:
        ValueError: Naming the file, if an image cannot be decoded.
    """
    if len(image_paths) == 0:
        raise UserError('no image to classify')
    progress = ProgressBar(len(image_paths)) if show_progress else None
    predictions = {view: [] for view in VIEWS}
    for start in range(0, len(image_paths), images_per_call):
        chunk = image_paths[start : start + images_per_call]
        views_of_chunk = []
        for path in chunk:
            views_of_chunk.append(positional_views(read_image(path), crop_fraction))
        inputs = [views[view] for view in VIEWS for views in views_of_chunk]
        predicted = np.asarray(predict(inputs)).reshape(len(VIEWS), len(chunk))
        for view, view_predictions in zip(VIEWS, predicted):
            predictions[view].append(view_predictions)
        if progress is not None:
            progress.update(len(chunk))
    if progress is not None:
        print()
    return {view: np.concatenate(chunks) for view, chunks in predictions.items()}


def format_positional_shift_table(results: dict) -> str:
    """Renders :func:`positional_shift_accuracies`' output as Markdown.

    Args:
        results (dict): Holds ``accuracy``, ``drop``, ``mean_crop_accuracy``
            and ``mean_crop_drop``.

    Returns:
        str: One row per view (full image first) and the mean over crops.
    """
    lines = ['| view | top-1 (%) | drop (points) |', '|---|---|---|']
    for view, accuracy in results['accuracy'].items():
        drop = results['drop'].get(view)
        drop_text = '' if drop is None else f'{drop:.2f}'
        lines.append(f'| {view} | {accuracy:.2f} | {drop_text} |')
    if results['mean_crop_accuracy'] is not None:
        lines.append(
            f'| mean of the crops | {results["mean_crop_accuracy"]:.2f} | '
            f'{results["mean_crop_drop"]:.2f} |'
        )
    return '\n'.join(lines)
