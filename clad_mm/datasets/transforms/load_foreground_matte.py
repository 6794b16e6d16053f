"""Loading the soft foreground matte that BGAugment composites with."""

import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import read_image

from .donor_pool import require_result


def read_matte(path: str) -> np.ndarray:
    """Reads a foreground matte as float32 weights in [0, 1].

    Args:
        path (str): A single-channel image (8- or 16-bit PNG, read
            unchanged and divided by its type's maximum) or a ``.npy`` array
            of floats in [0, 1] or of booleans (read without pickle).

    Returns:
        np.ndarray: H×W float32 matte.

    Raises:
        UserError: Naming the file, if it is missing, cannot be decoded, has
            several channels or holds values outside [0, 1].
    """
    if osp.splitext(path)[1].lower() == '.npy':
        if not osp.isfile(path):
            raise UserError(f'{path}: no such matte file')
        try:
            matte = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise UserError(
                f'{path}: cannot be read as a .npy array ({error})'
            ) from None
    else:
        matte = read_image(path, 'unchanged')
    if matte.ndim == 3 and matte.shape[2] == 1:
        matte = matte[:, :, 0]
    if matte.ndim != 2:
        raise UserError(
            f'{path}: a foreground matte must have one channel, got shape {matte.shape}'
        )
    if np.issubdtype(matte.dtype, np.integer):
        matte = matte.astype(np.float32) / np.iinfo(matte.dtype).max
    matte = matte.astype(np.float32, copy=False)
    if matte.size and (matte.min() < 0 or matte.max() > 1):
        raise UserError(
            f'{path}: matte values must lie in [0, 1], got {matte.min()} to '
            f'{matte.max()}'
        )
    return matte


@TRANSFORMS.register_module()
class LoadForegroundMatte(BaseTransform):
    """Load the soft foreground matte of the loaded image.

    BGAugment (Kobs & Hotho, `On Background Bias in Deep Metric Learning
    <https://arxiv.org/abs/2210.01615>`_, ICMV 2022) composites with the
    *soft* matte of a salient-object model (rembg/U-2-Net), not a binarised
    mask, so hair-thin and semi-transparent borders blend. A grey PNG is
    read as its grey level over 255 (65535 for 16-bit); a binary mask
    (0/1 or 0/255) works too and composites hard. The matte must have the
    image's size, so load it right after ``LoadImageFromFile``, before any
    resize or crop.

    **Required Keys:**

    - img
    - mask_path (str): The matte file (set by the retrieval datasets when
      they are given ``masks_root``).

    **Added Keys:**

    - fg_matte (np.float32): H×W foreground weights in [0, 1].
    """

    def transform(self, results: dict) -> dict:
        """Adds ``fg_matte`` to ``results``.

        Raises:
            UserError: If the dataset gives no ``mask_path``, the matte
                cannot be read, or its size differs from the image's; the
                message names both files.
        """
        path = require_result(
            results, 'mask_path', "the dataset's masks_root", type(self).__name__
        )
        image = require_result(results, 'img', 'LoadImageFromFile', type(self).__name__)
        matte = read_matte(path)
        if matte.shape != image.shape[:2]:
            raise UserError(
                f'The matte {path} is {matte.shape[0]}x{matte.shape[1]} (HxW) but '
                f'its image {results.get("img_path")} is {image.shape[0]}x'
                f"{image.shape[1]}: mattes must have their image's size"
            )
        results['fg_matte'] = matte
        return results
