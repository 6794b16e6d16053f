"""BGAugment: every image on a random background photo, through its soft matte."""

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError
from clad_mm.utils.random_state import seeded_global_generators

from .donor_pool import DonorPool, require_result
from .foreground_paste import soft_paste


@TRANSFORMS.register_module()
class BGAugment(BaseTransform):
    """Composite the image on a background drawn from a pool folder.

    BGAugment (Kobs & Hotho, `On Background Bias in Deep Metric Learning
    <https://arxiv.org/abs/2210.01615>`_, ICMV 2022) trains metric-learning
    models on images whose background is replaced, every step, by a random
    object-free background photo: ``x = m·x + (1 − m)·bg`` with ``m`` the
    soft foreground matte. It needs no model change and costs nothing at
    inference. With probability ``prob`` (default 1, the paper's) a sample:

    1. draws a background uniformly, with replacement, from every image
       under ``background_root`` (recursively);
    2. augments it like a training image: a random resized crop of
       ``crop_ratio_range`` of its area (aspect ratio 3/4 to 4/3, MMPretrain's
       ``RandomResizedCrop``, from the background at its stored size)
       resized to the image's size, then a horizontal
       flip with probability 0.5;
    3. is blended over it through ``fg_matte`` (soft; a binary matte
       pastes hard).

    Put it right after the image and matte are loaded, before the training
    crop and flip: the composite is then cropped and flipped as one image, so
    the matte follows the image exactly.

    The same transform builds the "replaced backgrounds" test set (queries
    and gallery on a disjoint pool of test backgrounds), inside
    :class:`ApplyToReplacedCopies` so that clean test images pass. A sample
    that carries ``bg_seed`` (the retrieval datasets' ``background_draws``)
    draws its background, crop and flip from that seed alone, so every
    model is tested on the same composites. Otherwise draws come from the
    global generators (seeded per sample by clad_mm's samplers: exact
    resume).

    **Required Keys:**

    - img (np.ndarray): H×W×3 image.
    - fg_matte (np.float32): H×W weights in [0, 1] (``LoadForegroundMatte``).
    - bg_seed (int, optional): see above.

    **Modified Keys:**

    - img

    **Added Keys:**

    - bg_replaced_path (str): The background file, or None if the sample was
      left unchanged.

    Args:
        background_root (str): Folder of background images.
        prob (float): Probability of replacing a sample's background.
            Defaults to 1.0.
        crop_ratio_range (tuple[float, float]): Area range of the
            background's random crop. Defaults to (0.16, 1.0), the paper's
            training crop.

    Raises:
        UserError: If the pool is missing or holds no image (naming the
            folder), ``prob`` is outside [0, 1], a background cannot be
            decoded (naming the file), or the matte's size differs from the
            image's.
    """

    def __init__(
        self,
        background_root: str,
        prob: float = 1.0,
        crop_ratio_range: tuple[float, float] = (0.16, 1.0),
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise UserError(f'BGAugment prob must lie in [0, 1], got {prob}')
        self.background_root = background_root
        self.prob = prob
        self.crop_ratio_range = tuple(crop_ratio_range)
        self._pool = DonorPool(background_root, 'random', 'background')

    def transform(self, results: dict) -> dict:
        """Replaces the background of ``results['img']``.

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict: ``results`` with the composited ``img``.
        """
        results['bg_replaced_path'] = None
        seed = results.get('bg_seed')
        if seed is None:
            return self._replace(results)
        with seeded_global_generators(int(seed)):
            return self._replace(results)

    def _replace(self, results: dict) -> dict:
        name = type(self).__name__
        image = require_result(results, 'img', 'LoadImageFromFile', name)
        matte = require_result(results, 'fg_matte', 'LoadForegroundMatte', name)
        if matte.shape != image.shape[:2]:
            raise UserError(
                f'fg_matte is {matte.shape[0]}x{matte.shape[1]} (HxW) but img '
                f'({results.get("img_path", "no path")}) is {image.shape[0]}x'
                f'{image.shape[1]}: put {name} before any transform that resizes '
                'or crops the image'
            )
        if self.prob < 1.0 and np.random.rand() >= self.prob:
            return results
        _, path = self._pool.draw()
        height, width = image.shape[:2]
        crop = RandomResizedCrop(
            scale=(height, width), crop_ratio_range=self.crop_ratio_range
        )
        background = crop({'img': self._pool.read_as_stored(path)})['img']
        background = background.astype(image.dtype, copy=False)
        if np.random.rand() < 0.5:
            background = np.ascontiguousarray(background[:, ::-1])
        results['img'] = soft_paste(image, matte, background)
        results['bg_replaced_path'] = path
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(background_root={self.background_root!r}, '
            f'prob={self.prob}, crop_ratio_range={self.crop_ratio_range}, '
            f'pool={len(self._pool)} images)'
        )
