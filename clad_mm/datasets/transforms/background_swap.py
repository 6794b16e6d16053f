import os
import os.path as osp

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

from ..folder_layout import (
    IMAGE_EXTENSIONS,
    list_class_folders,
    list_stems,
    require_dir,
)
from .foreground_paste import feathered_alpha, hard_paste, soft_paste

_BACKGROUND_CHOICES = ('other_class', 'random')
_BLENDS = ('hard', 'soft')
#: ``pos_bg_label`` of a positive whose background has no class.
UNLABELLED_BACKGROUND = -1


@TRANSFORMS.register_module()
class BackgroundSwap(BaseTransform):
    """Build CLAD's positive sample: the foreground on another background.

    CLAD (Ghosh et al., "A Contrastive Learning based Approach for Background
    Debiasing", BMVC 2022) pulls an image (the anchor) towards its positive,
    the anchor's foreground pasted onto the background of a *different*
    class, which keeps the anchor's label, and pushes it away from images
    that show the anchor's class's background (DESIGN.md §2). This transform
    builds the positive and records its background label, the key of the
    negative dictionary queue the positive is enqueued into.

    Backgrounds are read from a pool folder, chosen by ``background_choice``:

    - ``'other_class'`` (CLAD): ``background_root`` holds
      ``<class>/<stem>.<ext>`` images, normally the ONLY-BG-T images of the
      training set (object box filled with background tiles, so pasting a
      foreground of another shape leaves no hole), e.g.
      ``data/synbg/only_bg_t/train``. A background's label is the index of
      its class folder in sorted order, as for
      :class:`BGChallengeTrainDataset`'s labels, so the pool must hold the
      dataset's class folders. A ``gt_label`` beyond the pool's classes, or
      an anchor stored in a folder named like a pool class of another index,
      is an error. A class is drawn uniformly among the pool's classes
      other than the anchor's ``gt_label``, then an image of it uniformly;
      the draw is direct, never a rejection loop. The authors take the
      donor from the anchor's mini-batch instead, which on a class-balanced
      set such as ImageNet-9 gives the same class distribution, but loops
      forever on a batch of one class; a pool cannot run out of other
      classes.
    - ``'random'`` (background augmentation for metric learning, BGAugment):
      any image found under ``background_root`` (recursively, no labels);
      ``pos_bg_label`` is -1 (``UNLABELLED_BACKGROUND``).

    The donor is decoded with ``cv2.imread`` (``IMREAD_COLOR``, so BGR like
    ``LoadImageFromFile``'s default) and, if its size differs from the
    anchor's, resized to it with ``cv2.resize`` (bilinear, aspect ratio not
    kept; ImageNet-9 and SynBG images all have one size, so this is the
    exception). Decoded donors are not cached: draws are uniform over the
    whole pool, so a cache of C images over a pool of N hits with
    probability C/N, which is negligible for ImageNet-9's 45 405 backgrounds.

    Pasting (``blend``):

    - ``'hard'`` (the paper's): mask 1 takes the anchor's pixel, 0 the
      donor's; exact.
    - ``'soft'``: alpha blending with the mask blurred by a Gaussian of
      standard deviation ``soft_sigma`` pixels (at the anchor's resolution):
      the weight is about 0.5 on the mask's edge and the transition spans
      about ``2 * soft_sigma`` pixels on each side. This hides the seam of a
      hard paste, a cue that separates positives from real images, at the
      price of a faint halo of the anchor's own background around the
      object.

    Why the mask does not follow the later augmentations: the mask is only
    needed for the paste, so swap first, at the loaded resolution, and only
    then augment anchor and positive independently (:class:`TwoViewPipeline`;
    mmpretrain's ``RandomResizedCrop`` and ``RandomFlip`` move ``img`` only).
    The positive's foreground lies exactly where the anchor's does, so
    ``fg_mask`` describes both images up to that point and no separate
    positive mask is added. A mask of another size than ``img`` (a resize or
    crop before the swap) is an error.

    The recommended training pipeline, with the dataset built with
    ``background_dir=None`` (or ``'only_bg_t'``; the anchor's own
    ``bg_path`` is not used)::

        train_pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='LoadForegroundMask'),
            dict(type='BackgroundSwap',
                 background_root='data/synbg/only_bg_t/train'),
            dict(type='TwoViewPipeline', anchor_pipeline=[
                dict(type='RandomResizedCrop', scale=224),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            ]),
            dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
        ]

    Random draws use numpy's global generator, like mmcv's transforms, so
    mmengine's per-worker seeding makes them reproducible.

    **Required Keys:**

    - img (np.ndarray): H×W×3 anchor image, uint8 (or float32).
    - fg_mask (np.ndarray): H×W, non-zero on the foreground (as added by
      ``LoadForegroundMask``).
    - gt_label (int): The anchor's class; ``'other_class'`` mode only.

    **Added Keys:**

    - pos_img (np.ndarray): H×W×3 positive, same size and dtype as ``img``.
    - pos_bg_label (int): Class index of the positive's background, never
      ``gt_label``; -1 in ``'random'`` mode.
    - pos_bg_path (str): File of the positive's background.

    Args:
        background_root (str): Pool folder of backgrounds; see above.
        background_choice (str): ``'other_class'`` or ``'random'``.
            Defaults to ``'other_class'``.
        blend (str): ``'hard'`` or ``'soft'``. Defaults to ``'hard'``.
        soft_sigma (float): Standard deviation in pixels of the Gaussian
            that softens the mask for ``blend='soft'``. Defaults to 2.0.

    Attributes:
        class_folders (tuple[str]): The pool's class folders in label order
            (empty in ``'random'`` mode).
        donor_paths (list[list[str]]): Background files per label; one list,
            the whole pool, in ``'random'`` mode.

    Raises:
        FileNotFoundError: If ``background_root`` is missing, or holds no
            class folder (``'other_class'``), an empty class folder or no
            image (``'random'``).
        ValueError: If the ``'other_class'`` pool has fewer than two classes,
            an argument is unknown, or a class folder holds a non-image.
    """

    def __init__(
        self,
        background_root: str,
        background_choice: str = 'other_class',
        blend: str = 'hard',
        soft_sigma: float = 2.0,
    ):
        if background_choice not in _BACKGROUND_CHOICES:
            raise ValueError(
                f'background_choice must be one of {_BACKGROUND_CHOICES}, '
                f'got {background_choice!r}'
            )
        if blend not in _BLENDS:
            raise ValueError(f'blend must be one of {_BLENDS}, got {blend!r}')
        if blend == 'soft' and not soft_sigma > 0:
            raise ValueError(f'soft_sigma must be positive, got {soft_sigma}')
        self.background_root = background_root
        self.background_choice = background_choice
        self.blend = blend
        self.soft_sigma = soft_sigma
        if background_choice == 'other_class':
            self.class_folders, self.donor_paths = _list_class_pool(background_root)
        else:
            self.class_folders = ()
            self.donor_paths = [_list_unlabelled_pool(background_root)]
        self._label_of_folder = {
            folder: label for label, folder in enumerate(self.class_folders)
        }

    def transform(self, results: dict) -> dict:
        """Adds the positive ``pos_img`` and its background to ``results``.

        Args:
            results (dict): Result dict with the required keys above.

        Returns:
            dict: ``results`` with the added keys above.

        Raises:
            KeyError: If a required key is missing; the message names it and
                the transform that adds it.
            ValueError: If ``fg_mask`` and ``img`` differ in size, ``img`` is
                not a 3-channel image, a donor cannot be decoded, or
                ``gt_label`` is not the pool's index of the anchor's class
                (see ``background_root``).
        """
        image = _require(results, 'img', 'LoadImageFromFile')
        mask = _require(results, 'fg_mask', 'LoadForegroundMask')
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f'BackgroundSwap needs an HxWx3 colour image, got shape '
                f'{image.shape} for {results.get("img_path", "the image")}'
            )
        if mask.shape != image.shape[:2]:
            raise ValueError(
                f'fg_mask is {mask.shape[0]}x{mask.shape[1]} (HxW) but img '
                f'({results.get("img_path", "no path")}) is {image.shape[0]}x'
                f'{image.shape[1]}: put BackgroundSwap before any transform '
                'that resizes or crops the image'
            )
        if self.background_choice == 'other_class':
            label = int(_require(results, 'gt_label', 'the dataset'))
            self._check_pool_label(results.get('img_path'), label)
            background_label = self._draw_other_class(label)
            background_path = self._draw_path(self.donor_paths[background_label])
        else:
            background_label = UNLABELLED_BACKGROUND
            background_path = self._draw_path(self.donor_paths[0])
        background = self._read_background(background_path, image)
        if self.blend == 'hard':
            positive = hard_paste(image, mask, background)
        else:
            positive = soft_paste(
                image, feathered_alpha(mask, self.soft_sigma), background
            )
        results['pos_img'] = positive
        results['pos_bg_label'] = background_label
        results['pos_bg_path'] = background_path
        return results

    @cache_randomness
    def _draw_other_class(self, label: int) -> int:
        # Draw among the other classes directly: skip over the anchor's.
        other = int(np.random.randint(len(self.class_folders) - 1))
        return other + (other >= label)

    @cache_randomness
    def _draw_path(self, paths: list[str]) -> str:
        return paths[np.random.randint(len(paths))]

    def _check_pool_label(self, image_path: str | None, label: int) -> None:
        # A pool whose class folders differ from the dataset's would mislabel
        # backgrounds silently: catch a label beyond the pool's classes, and
        # an image stored in a folder named like a pool class of another
        # index.
        if not 0 <= label < len(self.class_folders):
            raise ValueError(
                f'gt_label {label} of {image_path} is not a class of the '
                f'background pool {self.background_root}, which has '
                f'{len(self.class_folders)} class folders: the pool must hold '
                'the same class folders as the dataset'
            )
        if image_path is None:
            return
        folder = osp.basename(osp.dirname(image_path))
        pool_label = self._label_of_folder.get(folder, label)
        if pool_label != label:
            raise ValueError(
                f'{image_path} has gt_label {label} but its class folder '
                f'{folder!r} is class {pool_label} of the background pool '
                f'{self.background_root}: the pool must hold the same class '
                'folders as the dataset'
            )

    @staticmethod
    def _read_background(path: str, image: np.ndarray) -> np.ndarray:
        background = cv2.imread(path, cv2.IMREAD_COLOR)
        if background is None:
            raise ValueError(
                f'Cannot decode background {path}: the file is missing, '
                'corrupt or not an image'
            )
        height, width = image.shape[:2]
        if background.shape[:2] != (height, width):
            background = cv2.resize(
                background, (width, height), interpolation=cv2.INTER_LINEAR
            )
        return background.astype(image.dtype, copy=False)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}('
            f'background_root={self.background_root!r}, '
            f'background_choice={self.background_choice!r}, '
            f'blend={self.blend!r}, soft_sigma={self.soft_sigma}, '
            f'pool={sum(map(len, self.donor_paths))} images)'
        )


def _require(results: dict, key: str, provider: str):
    if key not in results:
        raise KeyError(
            f'BackgroundSwap needs {key!r} in the results (added by '
            f'{provider}); got keys {sorted(results)}'
        )
    return results[key]


def _list_class_pool(root: str) -> tuple[tuple[str, ...], list[list[str]]]:
    require_dir(root, '<class>/<stem>.<ext> background images')
    folders = list_class_folders(root)
    if len(folders) < 2:
        raise ValueError(
            f'The background pool {root} holds {len(folders)} class folder '
            f'({folders}); a background of another class than the anchor '
            'needs at least two'
        )
    paths = []
    for folder in folders:
        class_dir = osp.join(root, folder)
        names = list_stems(class_dir, IMAGE_EXTENSIONS).values()
        paths.append([osp.join(class_dir, name) for name in sorted(names)])
    return tuple(folders), paths


def _list_unlabelled_pool(root: str) -> list[str]:
    require_dir(root, 'background images (searched recursively)')
    paths = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            name for name in subdirectories if not name.startswith('.')
        )
        paths.extend(
            osp.join(directory, name)
            for name in sorted(files)
            if not name.startswith('.')
            and osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        )
    if not paths:
        raise FileNotFoundError(
            f'{root} holds no background image with an extension in '
            f'{IMAGE_EXTENSIONS} (searched recursively)'
        )
    return paths
