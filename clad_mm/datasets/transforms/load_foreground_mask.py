import io
import logging
import os.path as osp

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError

#: How many degenerate masks a process names in warnings before it stops
#: naming further ones (a folder of them would flood the log).
MAX_DEGENERATE_MASKS_NAMED = 10


@TRANSFORMS.register_module()
class LoadForegroundMask(BaseTransform):
    """Load the binary foreground mask of the loaded image.

    The mask comes from one of two sources, named by ``fg_mask_source``:

    - ``'mask'``: a binary mask file, ``.npy`` (read without pickle) or an
      image such as ``.png`` (read unchanged). It must be single-channel and
      binary: 0 is background and the one other value present (1, 255,
      True, ...) is foreground.
    - ``'grabcut'``: the segmented object on a black background, as in
      CLAD's ``fg_grabcut`` folder. A pixel is foreground when its largest
      channel value is above ``grabcut_threshold``. Testing for "not exactly
      black", as the authors' code does, also takes the JPEG ringing around
      the object for foreground: on SynBG's 64 px JPEGs (quality 95) that
      mask has an IoU of 0.30 with the true mask, against 0.79 for a
      threshold of 10 and 0.89 for 20. Higher thresholds drop more ringing
      but cut into dark object parts, which real photographs have; a
      morphological opening did not help (the ringing is a band attached to
      the object, not specks). Prefer binary masks where they exist.

    The mask must have the size of ``img``, so use this transform right
    after ``LoadImageFromFile``, before any resizing or cropping.

    A mask that is all background or all foreground is accepted with a
    warning naming the file, once per file and process (up to
    :data:`MAX_DEGENERATE_MASKS_NAMED` files): a background swap then makes
    a positive that is the donor background alone, or the anchor itself.

    **Required Keys:**

    - img
    - fg_mask_path
    - fg_mask_source

    **Added Keys:**

    - fg_mask (np.uint8): H×W, 1 on the foreground and 0 elsewhere.

    Args:
        grabcut_threshold (int): A grabcut pixel whose largest channel value
            is above this is foreground. Defaults to 10.
    """

    def __init__(self, grabcut_threshold: int = 10):
        self.grabcut_threshold = grabcut_threshold

    def transform(self, results: dict) -> dict:
        """Adds ``fg_mask`` to ``results``.

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict: ``results`` with ``fg_mask``.

        Raises:
            ValueError: Naming the mask file, if it cannot be decoded, is
                not a binary single-channel mask, or differs in size from
                the image.
        """
        path = results['fg_mask_path']
        source = results['fg_mask_source']
        if source == 'mask':
            mask = self._read_mask(path)
        elif source == 'grabcut':
            mask = self._mask_from_grabcut(path)
        else:
            raise UserError(
                f"fg_mask_source must be 'mask' or 'grabcut', got {source!r} for {path}"
            )
        image_size = results['img'].shape[:2]
        if mask.shape != image_size:
            raise UserError(
                f'Foreground mask {path} is {mask.shape[0]}x{mask.shape[1]} '
                f'(HxW) but its image {results.get("img_path", "")} is '
                f'{image_size[0]}x{image_size[1]}'
            )
        warn_if_degenerate(mask, path)
        results['fg_mask'] = mask
        return results

    @staticmethod
    def _read_mask(path: str) -> np.ndarray:
        content = fileio.get(path)
        if osp.splitext(path)[1].lower() == '.npy':
            try:
                mask = np.load(io.BytesIO(content), allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                raise UserError(
                    f'Cannot read foreground mask {path}: {error}'
                ) from error
        else:
            mask = mmcv.imfrombytes(content, flag='unchanged')
            if mask is None:
                raise UserError(
                    f'Cannot decode foreground mask {path}: the file is '
                    'corrupt or not an image'
                )
        if mask.ndim != 2:
            raise UserError(
                f'Foreground mask {path} has shape {mask.shape}; expected a '
                'single-channel HxW mask'
            )
        foreground = mask != 0
        # Binary means every non-zero pixel holds the same value; checked
        # without np.unique, which sorts the mask and dominates load time.
        if foreground.any() and np.any(mask[foreground] != mask[foreground][0]):
            values = np.unique(mask)
            raise UserError(
                f'Foreground mask {path} is not binary: expected 0 and one '
                f'foreground value, found {values[:5].tolist()}'
                + (' ...' if values.size > 5 else '')
            )
        return foreground.astype(np.uint8)

    def _mask_from_grabcut(self, path: str) -> np.ndarray:
        grabcut = mmcv.imfrombytes(fileio.get(path), flag='color')
        if grabcut is None:
            raise UserError(
                f'Cannot decode grabcut image {path}: the file is corrupt or '
                'not an image'
            )
        return (grabcut.max(axis=2) > self.grabcut_threshold).astype(np.uint8)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(grabcut_threshold={self.grabcut_threshold})'


_degenerate_masks_named: set[str] = set()


def warn_if_degenerate(mask: np.ndarray, path: str) -> None:
    """Warns, once per file, about a mask that is all 0 or all 1.

    Args:
        mask (np.ndarray): The binary mask (1 on the foreground).
        path (str): Its file, named in the warning.
    """
    if mask.size == 0 or mask.min() != mask.max():
        return
    if path in _degenerate_masks_named:
        return
    if len(_degenerate_masks_named) >= MAX_DEGENERATE_MASKS_NAMED:
        return
    _degenerate_masks_named.add(path)
    if mask.flat[0]:
        found = 'is foreground everywhere'
        consequence = 'no background is swapped and the positive equals the anchor'
    else:
        found = 'has no foreground pixel'
        consequence = 'a background swap makes a positive of the donor background alone'
    last = len(_degenerate_masks_named) == MAX_DEGENERATE_MASKS_NAMED
    print_log(
        f'Foreground mask {path} {found}: {consequence}; fix or remove the mask'
        + (
            f' (further such masks are not named: {MAX_DEGENERATE_MASKS_NAMED} '
            'already were)'
            if last
            else ''
        ),
        logger='current',
        level=logging.WARNING,
    )
