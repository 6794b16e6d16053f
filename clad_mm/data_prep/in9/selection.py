"""Which ImageNet images IN-9 keeps, and which of them go to validation.

The rules of the Background Challenge's construction (Xiao et al., "Noise or
Signal: The Role of Image Backgrounds in Object Recognition", ICLR 2021),
applied in the order of :data:`RULES`: an image is kept when

1. it has a bounding-box XML (else ``no_annotation``) with exactly one box
   (else ``box_count``);
2. after Resize(256, short side) + CenterCrop(224) the box, transformed and
   clipped, keeps at least 50 % of its area (else ``box_cropped``) and
   covers at most 90 % of the crop (else ``box_too_large``);
3. ``cv2.grabCut`` on the 224 px crop, initialised with the box, 5
   iterations, finds a foreground (definite or probable) of at least 10 % of
   the box (else ``small_mask``).

The validation and training images of every class are then drawn from the
sorted kept images with a seeded generator (:func:`assign_subsets`).
"""

import math

import cv2
import numpy as np

from clad_mm.datasets.categories import IN9_CLASS_FOLDERS, IN9_CLASSES
from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import read_image, write_image_atomically

from ..masks.foreground_masks import grabcut_mask, read_voc_boxes

#: Rejection rules in the order they are applied.
RULES = ('no_annotation', 'box_count', 'box_cropped', 'box_too_large', 'small_mask')
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224
MIN_BOX_KEPT = 0.5
MAX_BOX_COVERAGE = 0.9
MIN_MASK_FRACTION = 0.1
GRABCUT_ITERATIONS = 5
#: Image counts of the published IN-9 training set.
IN9_TRAIN_PER_CLASS = 5045
# Random stream of the subset draw (the donor draws use others).
_STREAM_SUBSETS = 0


def crop_geometry(height: int, width: int) -> tuple[int, int, int, int]:
    """Size after Resize(256, short side) and offset of CenterCrop(224).

    Sizes are rounded as MMPretrain's ``ResizeEdge`` and offsets as
    ``CenterCrop`` round them, so the crop equals the test pipeline's.

    Args:
        height (int): Source image height.
        width (int): Source image width.

    Returns:
        tuple[int, int, int, int]: ``(resized_width, resized_height,
        crop_x0, crop_y0)``.
    """
    if width < height:
        resized = (RESIZE_SHORT_SIDE, int(RESIZE_SHORT_SIDE * height / width))
    else:
        resized = (int(RESIZE_SHORT_SIDE * width / height), RESIZE_SHORT_SIDE)
    crop_x0 = max(0, int(round((resized[0] - CROP_SIZE) / 2)))
    crop_y0 = max(0, int(round((resized[1] - CROP_SIZE) / 2)))
    return (*resized, crop_x0, crop_y0)


def resize_and_center_crop(image: np.ndarray) -> np.ndarray:
    """Resize(256, short side, bilinear) then CenterCrop(224).

    Args:
        image (np.ndarray): H x W x C source image.

    Returns:
        np.ndarray: The 224 x 224 crop.
    """
    resized_width, resized_height, x0, y0 = crop_geometry(*image.shape[:2])
    resized = cv2.resize(
        image, (resized_width, resized_height), interpolation=cv2.INTER_LINEAR
    )
    return resized[y0 : y0 + CROP_SIZE, x0 : x0 + CROP_SIZE]


def box_in_crop(box, height: int, width: int) -> tuple[tuple, float, float]:
    """A source box after Resize(256) + CenterCrop(224), and what it keeps.

    Args:
        box (Sequence[float]): ``(x0, y0, x1, y1)`` in source pixels, ends
            exclusive.
        height (int): Source image height.
        width (int): Source image width.

    Returns:
        tuple: The clipped box in crop coordinates (floats), the share of
        the transformed box's area inside the crop, and the share of the
        crop's area the clipped box covers.
    """
    resized_width, resized_height, crop_x0, crop_y0 = crop_geometry(height, width)
    scale_x, scale_y = resized_width / width, resized_height / height
    x0, y0, x1, y1 = box
    moved = (
        x0 * scale_x - crop_x0,
        y0 * scale_y - crop_y0,
        x1 * scale_x - crop_x0,
        y1 * scale_y - crop_y0,
    )
    clipped = tuple(min(max(value, 0.0), float(CROP_SIZE)) for value in moved)
    area = max(moved[2] - moved[0], 0.0) * max(moved[3] - moved[1], 0.0)
    clipped_area = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1])
    kept = clipped_area / area if area > 0 else 0.0
    return clipped, kept, clipped_area / CROP_SIZE**2


def pixel_box(box) -> tuple[int, int, int, int]:
    """The smallest whole-pixel box holding a float box of the crop.

    Args:
        box (Sequence[float]): ``(x0, y0, x1, y1)`` inside the crop.

    Returns:
        tuple[int, int, int, int]: Integer ``(x0, y0, x1, y1)``, ends
        exclusive, at least one pixel wide and high.
    """
    x0, y0 = (min(math.floor(value), CROP_SIZE - 1) for value in box[:2])
    x1 = min(max(math.ceil(box[2]), x0 + 1), CROP_SIZE)
    y1 = min(max(math.ceil(box[3]), y0 + 1), CROP_SIZE)
    return x0, y0, x1, y1


def scan_image(task: dict) -> dict:
    """Applies the IN-9 rules to one image (the scan pass's worker).

    Args:
        task (dict): ``key`` (``<wnid>/<stem>``), ``image_path``,
            ``xml_path`` (None when the image has no annotation) and
            ``mask_path`` (where a kept image's mask is cached).

    Returns:
        dict: ``key`` and ``outcome``: ``'kept'`` with ``box`` (integer crop
        box) and ``mask_fraction``; ``'rejected'`` with ``rule``; or
        ``'failed'`` with ``path`` and ``error`` for an unreadable file.
    """
    result = {'key': task['key']}
    if task['xml_path'] is None:
        return {**result, 'outcome': 'rejected', 'rule': 'no_annotation'}
    try:
        boxes, _ = read_voc_boxes(task['xml_path'])
    except ValueError as error:
        return {
            **result,
            'outcome': 'failed',
            'path': task['xml_path'],
            'error': str(error),
        }
    if len(boxes) != 1:
        return {**result, 'outcome': 'rejected', 'rule': 'box_count'}
    try:
        image = read_image(task['image_path'])
    except ValueError as error:
        return {
            **result,
            'outcome': 'failed',
            'path': task['image_path'],
            'error': str(error),
        }
    clipped, kept, coverage = box_in_crop(boxes[0], *image.shape[:2])
    if kept < MIN_BOX_KEPT:
        return {**result, 'outcome': 'rejected', 'rule': 'box_cropped'}
    if coverage > MAX_BOX_COVERAGE:
        return {**result, 'outcome': 'rejected', 'rule': 'box_too_large'}
    box = pixel_box(clipped)
    crop = resize_and_center_crop(image)
    mask = grabcut_mask(crop, box, GRABCUT_ITERATIONS)
    mask_fraction = float(mask.sum()) / ((box[2] - box[0]) * (box[3] - box[1]))
    if mask_fraction < MIN_MASK_FRACTION:
        return {**result, 'outcome': 'rejected', 'rule': 'small_mask'}
    write_image_atomically(task['mask_path'], mask * 255)
    return {**result, 'outcome': 'kept', 'box': box, 'mask_fraction': mask_fraction}


def assign_subsets(
    kept: dict[int, list[str]],
    val_per_class: int,
    per_class: int | None,
    seed: int,
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Draws the validation and training images of every class.

    The draw depends only on the sorted kept keys and the seed, so a resumed
    run picks the same images.

    Args:
        kept (dict[int, list[str]]): Kept image keys by IN-9 label.
        val_per_class (int): Validation images per class, 0 or at least 2
            (MIXED-SAME needs another image of the class).
        per_class (int, optional): Training images per class; None keeps
            every image not drawn for validation.
        seed (int): Seed of the draw.

    Returns:
        tuple[dict, dict]: Training and validation keys by label, sorted.

    Raises:
        ValueError: Naming every class with too few kept images.
    """
    if val_per_class == 1 or val_per_class < 0:
        raise UserError(
            f'val_per_class must be 0 or at least 2 (MIXED-SAME pastes on '
            f'another image of the class), got {val_per_class}'
        )
    needed = val_per_class + (per_class or 1)
    short = {
        IN9_CLASS_FOLDERS[label]: len(kept.get(label, ()))
        for label in range(len(IN9_CLASSES))
        if len(kept.get(label, ())) < needed
    }
    if short:
        raise UserError(
            f'Too few kept images: {short} (class folder: kept images), but '
            f'every class needs {needed} ({val_per_class} for validation and '
            f'{per_class or "at least 1"} for training); lower --per-class or '
            '--val-per-class'
        )
    train, val = {}, {}
    for label in range(len(IN9_CLASSES)):
        rng = np.random.default_rng([seed, _STREAM_SUBSETS, label])
        keys = sorted(kept[label])
        order = [keys[index] for index in rng.permutation(len(keys))]
        val[label] = sorted(order[:val_per_class])
        rest = order[val_per_class:]
        train[label] = sorted(rest if per_class is None else rest[:per_class])
    return train, val
