"""A grid of the same test images in every split, to see what a split shows.

Background Challenge test sets (and the generated SynBG sets) keep one file
stem per test image across their splits, so the image of a stem in
``original`` and in ``mixed_rand`` (or ``outline``) show the same object.
"""

import logging
import os.path as osp
from collections.abc import Sequence

import cv2
import numpy as np
from mmengine.logging import print_log

from clad_mm.datasets.folder_layout import (
    IMAGE_EXTENSIONS,
    class_metainfo,
    list_class_folders,
    list_stems,
    require_dir,
)
from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.fileio import read_image, write_image_atomically

_LABEL_COLOUR = (0, 0, 0)
_BACKGROUND = 255
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_SCALE = 0.5
_PAD = 6


def _split_class_dir(test_root: str, split: str, class_name: str) -> str:
    return osp.join(test_root, split, 'val', class_name)


def split_preview_cells(
    test_root: str, splits: Sequence[str], per_class: int = 1
) -> tuple[list[str], list[list[str]]]:
    """Picks the images of the preview: the same stems in every split.

    The stems are the first ``per_class`` (in sorted order) of each class
    folder of the first split.

    Args:
        test_root (str): Folder holding ``<split>/val/<class>/<stem>.<ext>``.
        splits (Sequence[str]): Splits to show, one row each.
        per_class (int): Images per class, at least 1.

    Returns:
        tuple: ``(column_labels, paths)``: a class name per column, and per
        split the image path of every column.

    Raises:
        ValueError: If ``splits`` is empty or ``per_class`` is below 1.
        FileNotFoundError: If a split folder is missing, or a split lacks an
            image of a stem shown (the path and stem are named).
    """
    if not splits:
        raise UserError('splits is empty: name at least one split to show')
    if per_class < 1:
        raise UserError(f'per_class must be at least 1, got {per_class}')
    for split in splits:
        require_dir(osp.join(test_root, split, 'val'), f'the {split!r} split')
    columns = []
    for class_name in list_class_folders(osp.join(test_root, splits[0], 'val')):
        stems = sorted(
            list_stems(
                _split_class_dir(test_root, splits[0], class_name), IMAGE_EXTENSIONS
            )
        )
        if len(stems) < per_class:
            print_log(
                f'per_class={per_class} is more than the {len(stems)} images of '
                f'{_split_class_dir(test_root, splits[0], class_name)}: all '
                f'{len(stems)} are shown',
                logger='current',
                level=logging.WARNING,
            )
        columns += [(class_name, stem) for stem in stems[:per_class]]
    paths = []
    for split in splits:
        row = []
        for class_name, stem in columns:
            class_dir = _split_class_dir(test_root, split, class_name)
            files = (
                list_stems(class_dir, IMAGE_EXTENSIONS) if osp.isdir(class_dir) else {}
            )
            if stem not in files:
                raise MissingFileError(
                    f'{class_dir} has no image with the stem {stem!r}, which the '
                    f'{splits[0]!r} split has: the splits must share their stems'
                )
            row.append(osp.join(class_dir, files[stem]))
        paths.append(row)
    return [class_name for class_name, _ in columns], paths


def _put_label(canvas: np.ndarray, text: str, x: int, y: int) -> None:
    cv2.putText(canvas, text, (x, y), _FONT, _FONT_SCALE, _LABEL_COLOUR, 1, cv2.LINE_AA)


def _text_size(text: str) -> tuple[int, int]:
    (width, height), baseline = cv2.getTextSize(text, _FONT, _FONT_SCALE, 1)
    return width, height + baseline


def draw_split_preview(
    test_root: str,
    splits: Sequence[str],
    per_class: int = 1,
    cell_px: int = 96,
) -> np.ndarray:
    """Draws a grid with one row per split and one column per shown image.

    Images are scaled to ``cell_px`` without smoothing, so that small
    generated images keep their pixels; split names label the rows and class
    names (without a ``NN_`` index prefix) the columns. The margins fit the
    longest split name and, where a class name is wider than its cell, the
    column labels alternate between two lines so that neighbours do not
    overlap.

    Args:
        test_root (str): Folder holding ``<split>/val/<class>/<stem>.<ext>``.
        splits (Sequence[str]): Splits to show, one row each.
        per_class (int): Images per class, at least 1.
        cell_px (int): Side of each image cell in pixels.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB image.
    """
    column_labels, paths = split_preview_cells(test_root, splits, per_class)
    labels = class_metainfo(column_labels, None)['classes']
    line_height = max(_text_size(text)[1] for text in [*labels, *splits])
    staggered = any(_text_size(label)[0] > cell_px - _PAD for label in labels)
    top_margin = line_height * (2 if staggered else 1) + _PAD
    left_margin = max(_text_size(split)[0] for split in splits) + 2 * _PAD
    height = top_margin + len(splits) * cell_px
    width = left_margin + len(labels) * cell_px
    canvas = np.full((height, width, 3), _BACKGROUND, np.uint8)
    for column, label in enumerate(labels):
        line = column % 2 if staggered else 0
        _put_label(
            canvas,
            label,
            left_margin + column * cell_px + _PAD // 2,
            (line + 1) * line_height,
        )
    for row, (split, row_paths) in enumerate(zip(splits, paths, strict=True)):
        top = top_margin + row * cell_px
        _put_label(canvas, split, _PAD, top + (cell_px + line_height) // 2)
        for column, path in enumerate(row_paths):
            image = cv2.resize(
                read_image(path), (cell_px, cell_px), interpolation=cv2.INTER_NEAREST
            )
            left = left_margin + column * cell_px
            canvas[top : top + cell_px, left : left + cell_px] = image
    # read_image gives OpenCV's BGR order.
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


def plot_split_preview(
    test_root: str,
    splits: Sequence[str],
    out_path: str,
    per_class: int = 1,
    cell_px: int = 96,
) -> str:
    """Saves :func:`draw_split_preview`'s grid as a PNG file.

    Args:
        test_root (str): Folder holding ``<split>/val/<class>/<stem>.<ext>``.
        splits (Sequence[str]): Splits to show, one row each.
        out_path (str): PNG file to write.
        per_class (int): Images per class, at least 1.
        cell_px (int): Side of each image cell in pixels.

    Returns:
        str: ``out_path``.
    """
    grid = draw_split_preview(test_root, splits, per_class, cell_px)
    write_image_atomically(out_path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return out_path
