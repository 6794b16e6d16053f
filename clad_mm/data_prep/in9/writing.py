"""Writing the views of the kept IN-9 images.

Every kept image gets the training views CLAD trains on or the validation
views of the Background Challenge's test release::

    OUT_ROOT/
      original/{train,val}/<class>/<stem>.JPEG    224 px crop
      fg_mask/train/<class>/<stem>.png            0 or 255
      fg_mask/val/<class>/<stem>.npy              0 or 1, as the test release
      only_bg_t/{train,val}/<class>/<stem>.JPEG   box filled with tiles
      only_fg/train/<class>/<stem>.JPEG           object on black
      mixed_rand/{train,val}/<class>/<stem>.JPEG  object on another ONLY-BG-T
      mixed_same/val/..., mixed_next/val/...

Files are written with :func:`clad_mm.utils.fileio.write_image_atomically`:
a killed run leaves at most a dot temporary, which the datasets' listings
ignore and a resumed build deletes, never a truncated image.
"""

import os.path as osp

import numpy as np

from clad_mm.datasets.categories import IN9_CLASS_FOLDERS
from clad_mm.datasets.transforms.foreground_paste import hard_paste
from clad_mm.utils.fileio import read_image, write_image_atomically

from ..masks.foreground_masks import fill_box_with_background_tiles, only_fg_image
from .donors import donor_background
from .selection import resize_and_center_crop

TRAIN_VIEWS = ('original', 'fg_mask', 'only_bg_t', 'only_fg', 'mixed_rand')
VAL_VIEWS = (
    'original',
    'fg_mask',
    'only_bg_t',
    'mixed_same',
    'mixed_rand',
    'mixed_next',
)


def decodes(path: str) -> bool:
    """Whether ``path`` is a finished output: an image or ``.npy`` that loads.

    Args:
        path (str): An output file.

    Returns:
        bool: False if it is missing or cannot be decoded.
    """
    if not osp.isfile(path):
        return False
    if path.endswith('.npy'):
        try:
            np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return False
        return True
    try:
        read_image(path, 'unchanged')
    except ValueError:
        return False
    return True


def output_paths(out_root: str, subset: str, label: int, stem: str) -> dict:
    """Where the views of one image go.

    Args:
        out_root (str): Output root.
        subset (str): ``'train'`` or ``'val'``.
        label (int): IN-9 label.
        stem (str): File stem, e.g. ``n02085620_10074``.

    Returns:
        dict[str, str]: ``{view: path}`` for the views of the subset.
    """
    views = TRAIN_VIEWS if subset == 'train' else VAL_VIEWS
    paths = {}
    for view in views:
        if view == 'fg_mask':
            extension = '.png' if subset == 'train' else '.npy'
        else:
            extension = '.JPEG'
        paths[view] = osp.join(
            out_root, view, subset, IN9_CLASS_FOLDERS[label], stem + extension
        )
    return paths


def write_views(task: dict) -> dict:
    """Writes every view of one kept image (the write pass's worker).

    Args:
        task (dict): ``key``, ``image_path``, ``box``, ``mask_path``,
            ``outputs`` (``{view: path}``) and ``donors`` (``{mixed view:
            (donor image path, donor box)}``).

    Returns:
        dict: ``key`` and ``outcome``: ``'skipped'`` when every output
        already existed and decoded, ``'written'``, or ``'failed'`` with
        ``path`` and ``error``.
    """
    outputs = task['outputs']
    if all(decodes(path) for path in outputs.values()):
        return {'key': task['key'], 'outcome': 'skipped'}
    try:
        crop = resize_and_center_crop(read_image(task['image_path']))
        mask = (read_image(task['mask_path'], 'grayscale') != 0).astype(np.uint8)
        views = {
            'original': crop,
            'only_bg_t': fill_box_with_background_tiles(crop, task['box']),
            'only_fg': only_fg_image(crop, mask),
        }
        for split, (donor_path, donor_box) in task['donors'].items():
            background = donor_background(donor_path, donor_box)
            views[split] = hard_paste(crop, mask, background)
    except ValueError as error:
        return {
            'key': task['key'],
            'outcome': 'failed',
            'path': task['image_path'],
            'error': str(error),
        }
    for view, path in outputs.items():
        if view != 'fg_mask':
            write_image_atomically(path, views[view])
        elif path.endswith('.npy'):
            write_image_atomically(path, mask)
        else:
            write_image_atomically(path, mask * 255)
    return {'key': task['key'], 'outcome': 'written'}
