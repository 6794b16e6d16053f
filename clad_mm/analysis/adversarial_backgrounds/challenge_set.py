"""The foregrounds and backgrounds of a Background Challenge test root.

The adversarial-background evaluation pastes every foreground (an
``original`` image cut out by its ``fg_mask``) on every ONLY-BG-T
background; this module lists both and reads their images.
"""

import logging
import os.path as osp
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log
from PIL import Image

from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset
from clad_mm.utils.errors import UserError

FOREGROUND_SPLIT = 'original'
BACKGROUND_SPLIT = 'only_bg_t'

ImageLoader = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class Foreground:
    """A test foreground: an ``original`` image and its mask.

    Args:
        name (str): ``<class folder>/<file name>`` below ``original/<subset>``.
        image_path (str): The ``original`` image.
        mask_path (str): Its ``fg_mask`` ``.npy`` file.
        label (int): Its class index.
    """

    name: str
    image_path: str
    mask_path: str
    label: int


@dataclass(frozen=True)
class Background:
    """A test background, an ONLY-BG-T image.

    Args:
        name (str): ``<class folder>/<file name>`` below ``only_bg_t/<subset>``.
        image_path (str): The image.
    """

    name: str
    image_path: str


def make_image_loader() -> ImageLoader:
    """Reads an image file as a default ``LoadImageFromFile()`` does.

    A config's own decoding is ``InferencePipeline(cfg).load_image``.

    Returns:
        callable: ``load_image(path) -> np.ndarray`` (BGR, uint8, OpenCV
        decoding).
    """
    load_transform = LoadImageFromFile()

    def load_image(path: str) -> np.ndarray:
        return load_transform(dict(img_path=path))['img']

    return load_image


def _split_dataset(test_root: str, split: str, subset: str, **kwargs):
    return BGChallengeTestDataset(
        test_root, splits=[split], subset=subset, serialize_data=False, **kwargs
    )


def list_foregrounds(
    test_root: str, subset: str = 'val'
) -> tuple[list[Foreground], tuple[str, ...]]:
    """Lists the foregrounds of a Background Challenge test root.

    Args:
        test_root (str): Folder holding ``original/<subset>`` and
            ``fg_mask/<subset>`` (the release's ``bg_challenge/``).
        subset (str): Sub-folder of every split. Defaults to ``'val'``.

    Returns:
        tuple[list[Foreground], tuple[str, ...]]: The foregrounds, class by
        class in sorted stem order, and the class names (index order).

    Raises:
        FileNotFoundError: If a folder is missing (the message names it).
        ValueError: If an image has no mask of the same stem, or a mask that
            cannot be read or differs in size from its image; the message
            names the file.
    """
    dataset = _split_dataset(test_root, FOREGROUND_SPLIT, subset, with_fg_mask=True)
    image_dir = osp.join(test_root, FOREGROUND_SPLIT, subset)
    foregrounds = [
        Foreground(
            name=osp.relpath(info['img_path'], image_dir),
            image_path=info['img_path'],
            mask_path=info['fg_mask_path'],
            label=info['gt_label'],
        )
        for info in dataset.data_list
    ]
    check_mask_sizes(foregrounds)
    return foregrounds, dataset.metainfo['classes']


def check_mask_sizes(foregrounds: Sequence[Foreground]) -> None:
    """Raises unless every mask has its image's height and width.

    Only file headers are read, so that a long run fails at once rather
    than at the faulty foreground; loading a foreground checks again.

    Args:
        foregrounds (Sequence[Foreground]): Foregrounds to check.

    Raises:
        ValueError: Naming the first mask that cannot be read or does not
            fit its image.
    """
    for foreground in foregrounds:
        try:
            mask_shape = np.load(
                foreground.mask_path, mmap_mode='r', allow_pickle=False
            ).shape
        except (ValueError, OSError) as error:
            raise UserError(
                f'Cannot read foreground mask {foreground.mask_path}: {error}'
            ) from error
        with Image.open(foreground.image_path) as image:
            width, height = image.size
        if mask_shape != (height, width):
            raise UserError(
                f'Foreground mask {foreground.mask_path} has shape {mask_shape} '
                f'but its image {foreground.image_path} is {height}x{width} '
                '(HxW); expected an HxW mask of the image size'
            )


def list_backgrounds(test_root: str, subset: str = 'val') -> list[Background]:
    """Lists the ONLY-BG-T backgrounds of a Background Challenge test root.

    Args:
        test_root (str): Folder holding ``only_bg_t/<subset>``.
        subset (str): Sub-folder of every split. Defaults to ``'val'``.

    Returns:
        list[Background]: Class by class, in sorted stem order.
    """
    dataset = _split_dataset(test_root, BACKGROUND_SPLIT, subset)
    image_dir = osp.join(test_root, BACKGROUND_SPLIT, subset)
    return [
        Background(
            name=osp.relpath(info['img_path'], image_dir),
            image_path=info['img_path'],
        )
        for info in dataset.data_list
    ]


def sample_subset(
    items: Sequence,
    max_count: int | None,
    rng: np.random.Generator,
    option: str = 'max_count',
    kind: str = 'items',
) -> list:
    """A random subset of at most ``max_count`` items, in their order.

    A ``max_count`` above ``len(items)`` keeps every item with a warning
    stating the count used.

    Args:
        items (Sequence): Items to choose from.
        max_count (int, optional): Size of the subset; None (or at least
            ``len(items)``) keeps every item.
        rng (np.random.Generator): Source of the random choice.
        option (str): The request, named in the warning, e.g.
            ``'--max-foregrounds'``.
        kind (str): What the items are, e.g. ``'foregrounds of data/test'``.

    Returns:
        list: The chosen items, in the order they have in ``items``.
    """
    if max_count is not None and max_count > len(items):
        print_log(
            f'{option} {max_count} is more than the {len(items)} {kind}: '
            f'all {len(items)} are used',
            logger='current',
            level=logging.WARNING,
        )
    if max_count is None or max_count >= len(items):
        return list(items)
    if max_count < 1:
        raise UserError(f'max_count must be at least 1, got {max_count}')
    chosen = rng.choice(len(items), size=max_count, replace=False)
    return [items[index] for index in sorted(chosen)]
