"""Foreground masks for folder-per-class image sets, and their quality.

The ImageNet-9 recipe of the Background Challenge (Xiao et al., "Noise or
Signal: The Role of Image Backgrounds in Object Recognition", ICLR 2021),
used by CLAD (BMVC 2022) for its training views, segments every image with
``cv2.grabCut`` initialised with the object's bounding box (5 iterations;
definite and probable foreground count as foreground) and derives the
ONLY-BG-T view by tiling the background into the box.
This module holds those pure image operations, the mask metrics and the
reader of the boxes' Pascal-VOC annotations.
"""

import math
import xml.etree.ElementTree as ElementTree

import cv2
import numpy as np

from clad_mm.utils.errors import UserError


def fill_box_with_background_tiles(image: np.ndarray, box) -> np.ndarray:
    """Fills a box with tiles of the image's own background (ONLY-BG-T).

    This is the Background Challenge's rule: of the four strips outside the
    box (left and right strips span the full height, top and bottom strips
    the full width) the one with the largest area is repeated across the box,
    starting at the box's edge, so the filled box continues the background
    instead of leaving a hole.

    Args:
        image (np.ndarray): H x W or H x W x C image; it is not modified.
        box (Sequence[int]): ``(x0, y0, x1, y1)`` in pixels with exclusive
            ``x1`` and ``y1``, inside the image.

    Returns:
        np.ndarray: A copy of ``image`` whose box holds background tiles.
    """
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (int(value) for value in box)
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise UserError(
            f'box {tuple(box)} must satisfy 0 <= x0 < x1 <= {width} and '
            f'0 <= y0 < y1 <= {height} for an image of shape {image.shape}'
        )
    strips = {
        'left': (x0 * height, image[y0:y1, :x0]),
        'right': ((width - x1) * height, image[y0:y1, x1:]),
        'top': (y0 * width, image[:y0, x0:x1]),
        'bottom': ((height - y1) * width, image[y1:, x0:x1]),
    }
    side = max(strips, key=lambda name: strips[name][0])
    area, strip = strips[side]
    if area == 0:
        raise UserError(
            f'box {tuple(box)} covers the whole image of shape {image.shape}: '
            'there is no background to tile'
        )
    box_width, box_height = x1 - x0, y1 - y0
    extra_axes = (1,) * (image.ndim - 2)
    if side in ('left', 'right'):
        repeats = math.ceil(box_width / strip.shape[1])
        tiles = np.tile(strip, (1, repeats, *extra_axes))[:, :box_width]
    else:
        repeats = math.ceil(box_height / strip.shape[0])
        tiles = np.tile(strip, (repeats, 1, *extra_axes))[:box_height]
    filled = image.copy()
    filled[y0:y1, x0:x1] = tiles
    return filled


def grabcut_mask(image_bgr: np.ndarray, box, iterations: int = 5) -> np.ndarray:
    """Segments the object inside a box with GrabCut.

    Args:
        image_bgr (np.ndarray): H x W x 3 uint8 BGR image.
        box (Sequence[int]): ``(x0, y0, x1, y1)`` around the object, ends
            exclusive; pixels outside it are definite background.
        iterations (int): GrabCut iterations (5 in the ImageNet-9 recipe).

    Returns:
        np.ndarray: H x W uint8 mask, 1 for definite or probable foreground.
    """
    height, width = image_bgr.shape[:2]
    x0, y0, x1, y1 = (int(value) for value in box)
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise UserError(
            f'box {tuple(box)} must satisfy 0 <= x0 < x1 <= {width} and '
            f'0 <= y0 < y1 <= {height} for an image of shape {image_bgr.shape}'
        )
    # GrabCut draws its initial colour models with OpenCV's global random
    # generator; seeding it makes a mask depend on the image alone.
    cv2.setRNGSeed(0)
    labels = np.zeros((height, width), np.uint8)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        np.ascontiguousarray(image_bgr),
        labels,
        (x0, y0, x1 - x0, y1 - y0),
        background_model,
        foreground_model,
        iterations,
        cv2.GC_INIT_WITH_RECT,
    )
    return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)


def center_box(height: int, width: int, margin: float = 0.1) -> tuple:
    """The image minus a margin on every side (the ``grabcut-center`` box).

    Args:
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        margin (float): Share of each side left out on both ends.

    Returns:
        tuple[int, int, int, int]: ``(x0, y0, x1, y1)``, ends exclusive.
    """
    if not 0 <= margin < 0.5:
        raise UserError(f'margin must be in [0, 0.5), got {margin}')
    x0, y0 = round(width * margin), round(height * margin)
    return x0, y0, width - x0, height - y0


def read_voc_boxes(
    xml_path: str,
) -> tuple[list[tuple[int, int, int, int]], tuple[int, int] | None]:
    """Reads the object boxes and the image size of a Pascal-VOC annotation.

    ImageNet's bounding-box XMLs use the VOC format but count pixels from 0
    (a box touching the left border has ``xmin = 0``), and ``xmax`` and
    ``ymax`` name the last pixel inside the object. Coordinates are
    therefore read as 0-based and inclusive: a box covers
    ``[xmin, xmax + 1) x [ymin, ymax + 1)``. Boxes are rounded to whole
    pixels and clipped to the image: to ``x, y >= 0`` and, when the file has
    a ``<size>``, to ``x <= width`` and ``y <= height``. A box outside the
    image comes back empty (``x0 >= x1`` or ``y0 >= y1``).

    Args:
        xml_path (str): The annotation file.

    Returns:
        tuple[list[tuple[int, int, int, int]], tuple[int, int] | None]: The
        ``(x0, y0, x1, y1)`` box of every ``<object>``, ends exclusive, and
        the annotated ``(width, height)``, or None if the file has no
        ``<size>``.

    Raises:
        ValueError: Naming the file, if it cannot be read, is not XML, or a
            box lacks a coordinate or ``<size>`` a dimension, or one holds a
            non-number.
    """
    try:
        root = ElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError as error:
        raise UserError(f'{xml_path} is not valid XML: {error}') from error
    except OSError as error:
        raise UserError(f'cannot read {xml_path}: {error}') from error
    try:
        size = root.find('size')
        if size is not None:
            size = tuple(int(size.find(tag).text) for tag in ('width', 'height'))
        right, bottom = size if size is not None else (math.inf, math.inf)
        boxes = []
        for bndbox in root.iter('bndbox'):
            xmin, ymin, xmax, ymax = (
                round(float(bndbox.find(tag).text))
                for tag in ('xmin', 'ymin', 'xmax', 'ymax')
            )
            boxes.append(
                (
                    max(xmin, 0),
                    max(ymin, 0),
                    min(xmax + 1, right),
                    min(ymax + 1, bottom),
                )
            )
    except (AttributeError, TypeError, ValueError) as error:
        raise UserError(
            f'{xml_path} is not a valid Pascal-VOC annotation: every <bndbox> '
            'needs numeric <xmin>, <ymin>, <xmax>, <ymax> and <size> needs '
            f'<width> and <height> ({error})'
        ) from error
    return boxes, size


def mask_bounding_box(mask: np.ndarray) -> tuple | None:
    """Tight bounding box of the non-zero pixels of a mask.

    Args:
        mask (np.ndarray): H x W mask.

    Returns:
        tuple[int, int, int, int] | None: ``(x0, y0, x1, y1)`` with exclusive
        ends, or None when the mask is empty.
    """
    x, y, box_width, box_height = cv2.boundingRect((mask != 0).astype(np.uint8))
    if box_width == 0:
        return None
    return x, y, x + box_width, y + box_height


def only_fg_image(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The object on black (ONLY-FG, CLAD's ``fg_grabcut``).

    Args:
        image (np.ndarray): H x W x C image.
        mask (np.ndarray): H x W mask; non-zero pixels are kept.

    Returns:
        np.ndarray: A copy of ``image`` with every background pixel 0.
    """
    _check_same_shape(image.shape[:2], mask.shape, 'image', 'mask')
    keep = (mask != 0).reshape(mask.shape + (1,) * (image.ndim - 2))
    return np.where(keep, image, 0).astype(image.dtype)


def mask_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of two binary masks (1.0 if both are empty).

    Args:
        pred (np.ndarray): H x W predicted mask; non-zero is foreground.
        gt (np.ndarray): H x W ground-truth mask of the same shape.

    Returns:
        float: ``|pred & gt| / |pred | gt|``.
    """
    _check_same_shape(pred.shape, gt.shape, 'pred', 'gt')
    pred, gt = pred != 0, gt != 0
    union = np.count_nonzero(pred | gt)
    if union == 0:
        return 1.0
    return np.count_nonzero(pred & gt) / union


def mask_coverage(pred: np.ndarray, gt: np.ndarray) -> float:
    """Share of the ground-truth foreground covered by the prediction.

    Args:
        pred (np.ndarray): H x W predicted mask; non-zero is foreground.
        gt (np.ndarray): H x W ground-truth mask of the same shape.

    Returns:
        float: ``|pred & gt| / |gt|`` (1.0 if ``gt`` is empty).
    """
    _check_same_shape(pred.shape, gt.shape, 'pred', 'gt')
    pred, gt = pred != 0, gt != 0
    num_gt = np.count_nonzero(gt)
    if num_gt == 0:
        return 1.0
    return np.count_nonzero(pred & gt) / num_gt


def _check_same_shape(shape_a, shape_b, name_a: str, name_b: str) -> None:
    if tuple(shape_a) != tuple(shape_b):
        raise UserError(
            f'{name_a} has shape {tuple(shape_a)} but {name_b} has shape '
            f'{tuple(shape_b)}; they must match'
        )
