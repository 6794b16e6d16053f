from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError

from .donor_pool import DONOR_CHOICES, UNLABELLED_DONOR
from .masked_swap import MaskedSwap

#: ``pos_bg_label`` of a positive whose background has no class.
UNLABELLED_BACKGROUND = UNLABELLED_DONOR


@TRANSFORMS.register_module()
class BackgroundSwap(MaskedSwap):
    """Build CLAD's positive sample: the foreground on another background.

    CLAD (Wang et al., `CLAD: A Contrastive Learning based Approach for
    Background Debiasing <https://arxiv.org/abs/2210.02748>`_, BMVC 2022)
    pulls an image (the anchor) towards its positive, the anchor's foreground
    pasted onto the background of a *different* class, which keeps the
    anchor's label, and pushes it away from images that show the anchor's
    class's background. This transform builds the positive and records its
    background label, the key of the negative dictionary queue the positive is
    enqueued into.

    Backgrounds are read from a pool folder: ``background_root``, or by
    default the training set's own ONLY-BG-T images (object box filled with
    background tiles, so pasting a foreground of another shape leaves no
    hole), ``<data_root>/only_bg_t/<split>`` of the sample's
    :class:`BGChallengeTrainDataset`, e.g. ``data/synbg/only_bg_t/train``.
    The default follows the dataset's ``data_root`` when it is overridden;
    it is listed at the first sample. How a background is chosen is
    ``background_choice``:

    - ``'other_class'`` (CLAD): the pool holds ``<class>/<stem>.<ext>``
      images. A background's label is the index of its class folder in
      sorted order, as for :class:`BGChallengeTrainDataset`'s labels, so the
      pool must hold the dataset's class folders. A ``gt_label`` beyond the
      pool's classes, or an anchor stored in a folder named like a pool class
      of another index, is an error. A class is drawn uniformly among the
      pool's classes other than the anchor's ``gt_label``, then an image of
      it uniformly; the draw is direct, never a rejection loop. The authors
      take the donor from the anchor's mini-batch instead, which on a
      class-balanced set such as ImageNet-9 gives the same class
      distribution, but loops forever on a batch of one class; a pool cannot
      run out of other classes.
    - ``'random'`` (background augmentation for metric learning, BGAugment):
      any image found under the pool folder (recursively, no labels);
      ``pos_bg_label`` is -1 (``UNLABELLED_BACKGROUND``).

    The donor is decoded BGR (``clad_mm.utils.fileio.read_image``), like
    ``LoadImageFromFile``'s default, and, if its size differs from the
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
            dict(type='BackgroundSwap'),  # the dataset's only_bg_t/
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
    - data_root, split (str): The dataset's root and split (recorded by
      :class:`BGChallengeTrainDataset`); without ``background_root`` only.

    **Added Keys:**

    - pos_img (np.ndarray): H×W×3 positive, same size and dtype as ``img``.
    - pos_bg_label (int): Class index of the positive's background, never
      ``gt_label``; -1 in ``'random'`` mode.
    - pos_bg_path (str): File of the positive's background.

    Args:
        background_root (str, optional): Pool folder of backgrounds; None
            for the dataset's ``only_bg_t/<split>``. Defaults to None.
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
        FileNotFoundError: If the pool folder is missing, or holds no
            class folder (``'other_class'``), an empty class folder or no
            image (``'random'``).
        ValueError: If the ``'other_class'`` pool has fewer than two classes,
            an argument is unknown, or a class folder holds a non-image.
    """

    donor_kind = 'background'
    dataset_folder = 'only_bg_t'
    donor_inside_mask = False
    label_key = 'pos_bg_label'
    path_key = 'pos_bg_path'

    def __init__(
        self,
        background_root: str | None = None,
        background_choice: str = 'other_class',
        blend: str = 'hard',
        soft_sigma: float = 2.0,
    ):
        if background_choice not in DONOR_CHOICES:
            raise UserError(
                f'background_choice must be one of {DONOR_CHOICES}, '
                f'got {background_choice!r}'
            )
        self.background_root = background_root
        self.background_choice = background_choice
        super().__init__(background_root, background_choice, blend, soft_sigma)

    @property
    def donor_paths(self) -> list[list[str]]:
        """Background files per label (one list in ``'random'`` mode)."""
        return self._donors.listed.donor_paths
