"""Base of the transforms that build a positive by swapping one side of a mask."""

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from clad_mm.utils.errors import UserError

from .donor_pool import DonorPool, DonorSource, require_result
from .foreground_paste import feathered_alpha, hard_paste, soft_paste

_BLENDS = ('hard', 'soft')


class MaskedSwap(BaseTransform):
    """Positive = the anchor on one side of its foreground mask, a donor on the other.

    CLAD's :class:`BackgroundSwap` keeps the anchor inside the mask and takes
    the background from a donor; S-CLAD's :class:`TextureSwap` keeps the
    anchor outside the mask and takes the texture inside it from a donor.
    Both draw the donor from a :class:`DonorPool`, paste hard or soft with
    the same functions, and record the donor's label and file. Subclasses
    set the class attributes below and document their keys.

    The pool is a given folder, listed when the transform is built, or, if
    ``root`` is None, the folder ``dataset_folder`` of the sample's own
    training set (``<data_root>/<dataset_folder>/<split>``, from the
    ``data_root`` and ``split`` that :class:`BGChallengeTrainDataset` records
    in each sample), listed at the first sample. A ``data_root`` overridden
    on the command line thus moves the donors with the images.

    Attributes:
        donor_kind (str): What the donors are, for messages and the pool.
        dataset_folder (str): Folder of the training set that holds the
            donors when ``root`` is None.
        donor_inside_mask (bool): Whether the donor fills the mask (texture)
            or its complement (background).
        label_key (str): Result key of the donor's class label.
        path_key (str): Result key of the donor's file.

    Args:
        root (str, optional): Pool folder of donors; None for the
            training set's ``dataset_folder``.
        choice (str): ``'other_class'`` or ``'random'`` (see
            :class:`DonorPool`).
        blend (str): ``'hard'`` or ``'soft'``.
        soft_sigma (float): Standard deviation in pixels of the Gaussian
            that softens the mask for ``blend='soft'``.
    """

    donor_kind: str
    dataset_folder: str
    donor_inside_mask: bool
    label_key: str
    path_key: str

    def __init__(self, root: str | None, choice: str, blend: str, soft_sigma: float):
        if blend not in _BLENDS:
            raise UserError(f'blend must be one of {_BLENDS}, got {blend!r}')
        if blend == 'soft' and not soft_sigma > 0:
            raise UserError(f'soft_sigma must be positive, got {soft_sigma}')
        self.blend = blend
        self.soft_sigma = soft_sigma
        self._donors = DonorSource(
            root, self.dataset_folder, choice, self.donor_kind, type(self).__name__
        )

    @property
    def class_folders(self) -> tuple[str, ...]:
        """The pool's class folders in label order (empty in ``'random'`` mode)."""
        return self._donors.listed.class_folders

    def transform(self, results: dict) -> dict:
        """Adds the positive ``pos_img`` and its donor's label and file.

        Args:
            results (dict): Result dict with ``img``, ``fg_mask`` and, in
                ``'other_class'`` mode, ``gt_label``.

        Returns:
            dict: ``results`` with ``pos_img`` and the subclass's label and
            path keys.

        Raises:
            UserError: If a required key is missing; the message names it and
                the transform that adds it.
            ValueError: If ``fg_mask`` and ``img`` differ in size, ``img`` is
                not a 3-channel image, a donor cannot be decoded, or
                ``gt_label`` is not the pool's index of the anchor's class.
        """
        name = type(self).__name__
        image = require_result(results, 'img', 'LoadImageFromFile', name)
        mask = require_result(results, 'fg_mask', 'LoadForegroundMask', name)
        if image.ndim != 3 or image.shape[2] != 3:
            raise UserError(
                f'{name} needs an HxWx3 colour image, got shape '
                f'{image.shape} for {results.get("img_path", "the image")}'
            )
        if mask.shape != image.shape[:2]:
            raise UserError(
                f'fg_mask is {mask.shape[0]}x{mask.shape[1]} (HxW) but img '
                f'({results.get("img_path", "no path")}) is {image.shape[0]}x'
                f'{image.shape[1]}: put {name} before any transform '
                'that resizes or crops the image'
            )
        pool = self._donors.pool_for(results)
        label = None
        if pool.choice == 'other_class':
            label = int(require_result(results, 'gt_label', 'the dataset', name))
            pool.check_anchor_label(results.get('img_path'), label)
        donor_label, donor_path = self._draw_donor(pool, label)
        height, width = image.shape[:2]
        donor = pool.read(donor_path, height, width, image.dtype)
        results['pos_img'] = self._paste(image, mask, donor)
        results[self.label_key] = donor_label
        results[self.path_key] = donor_path
        return results

    def _paste(self, image: np.ndarray, mask: np.ndarray, donor: np.ndarray):
        inside, outside = (donor, image) if self.donor_inside_mask else (image, donor)
        if self.blend == 'hard':
            return hard_paste(inside, mask, outside)
        return soft_paste(inside, feathered_alpha(mask, self.soft_sigma), outside)

    @cache_randomness
    def _draw_donor(self, pool: DonorPool, label: int | None) -> tuple[int, str]:
        return pool.draw(label)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}('
            f'{self.donor_kind}_root={self._donors.root!r}, '
            f'{self.donor_kind}_choice={self._donors.choice!r}, '
            f'blend={self.blend!r}, soft_sigma={self.soft_sigma}, '
            f'pool={self._donors.describe()})'
        )
