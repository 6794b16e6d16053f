from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

from .donor_pool import DONOR_CHOICES, UNLABELLED_DONOR, DonorPool, require_result
from .foreground_paste import feathered_alpha, hard_paste, soft_paste

_BLENDS = ('hard', 'soft')
#: ``pos_bg_label`` of a positive whose background has no class.
UNLABELLED_BACKGROUND = UNLABELLED_DONOR


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
        if background_choice not in DONOR_CHOICES:
            raise ValueError(
                f'background_choice must be one of {DONOR_CHOICES}, '
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
        self._pool = DonorPool(background_root, background_choice, 'background')
        self.class_folders = self._pool.class_folders
        self.donor_paths = self._pool.donor_paths

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
        label = None
        if self.background_choice == 'other_class':
            label = int(_require(results, 'gt_label', 'the dataset'))
            self._pool.check_anchor_label(results.get('img_path'), label)
        background_label, background_path = self._draw_background(label)
        height, width = image.shape[:2]
        background = self._pool.read(background_path, height, width, image.dtype)
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
    def _draw_background(self, label: int | None) -> tuple[int, str]:
        return self._pool.draw(label)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}('
            f'background_root={self.background_root!r}, '
            f'background_choice={self.background_choice!r}, '
            f'blend={self.blend!r}, soft_sigma={self.soft_sigma}, '
            f'pool={len(self._pool)} images)'
        )


def _require(results: dict, key: str, provider: str):
    return require_result(results, key, provider, 'BackgroundSwap')
