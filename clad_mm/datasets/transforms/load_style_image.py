import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError

from .donor_pool import DonorPool, DonorSource, require_result


@TRANSFORMS.register_module()
class LoadStyleImage(BaseTransform):
    """Load the AdaIN style image of S-CLAD's positive as a third view.

    S-CLAD, the texture variant of CLAD (Wang et al., `CLAD: A Contrastive
    Learning based Approach for Background Debiasing
    <https://arxiv.org/abs/2210.02748>`_, BMVC 2022), pulls an image towards
    a positive that keeps its shape but wears the texture of a *different*
    class, made with AdaIN from a style image of that class, and keys the
    negative dictionary by the style's class.
    AdaIN runs batched on the accelerator, in ``StylizingDataPreprocessor``;
    this transform only supplies its style image. Put it after mmpretrain's
    ``MultiView(num_views=2, ...)``, which leaves ``img = [anchor view,
    positive content view]``: it reads a style image, resizes it to the
    content view's H×W (bilinear, aspect ratio not kept, so that styles
    stack into a batch; AdaIN uses only the style's per-channel feature
    statistics) and appends it, ``img = [anchor, content, style]``.

    Style images come from a pool folder: ``style_root``, or by default the
    training images themselves, ``<data_root>/original/<split>`` of the
    sample's :class:`BGChallengeTrainDataset` (e.g.
    ``data/in9/original/train``), which follows an overridden ``data_root``.
    They are chosen by ``style_choice`` (drawing and reading as for
    :class:`BackgroundSwap`; see :class:`DonorPool`):

    - ``'other_class'`` (S-CLAD): the pool holds ``<class>/<stem>.<ext>``
      images. A style's label is the index of its class
      folder in sorted order, so the pool must hold the dataset's class
      folders. A class is drawn uniformly among the other classes than
      ``gt_label`` (directly, no rejection loop), then an image of it
      uniformly.
    - ``'random'``: any image under ``style_root`` (recursively, no labels;
      e.g. a folder of paintings); ``pos_texture_label`` is -1.

    The style is decoded BGR (``cv2.imread``), like ``LoadImageFromFile``'s
    default, so all three views share one channel order. The pipeline::

        train_pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2, transforms=[[
                dict(type='RandomResizedCrop', scale=224),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            ]]),
            dict(type='LoadStyleImage'),  # the dataset's original/
            dict(type='PackInputs', algorithm_keys=('pos_texture_label',)),
        ]

    Random draws use numpy's global generator, like mmcv's transforms, so
    mmengine's per-worker seeding makes them reproducible.

    **Required Keys:**

    - img (list[np.ndarray]): ``[anchor view, positive content view]``, each
      H×W×3 (as left by ``MultiView(num_views=2)``).
    - gt_label (int): The anchor's class; ``'other_class'`` mode only.
    - data_root, split (str): The dataset's root and split (recorded by
      :class:`BGChallengeTrainDataset`); without ``style_root`` only.

    **Modified Keys:**

    - img: ``[anchor view, positive content view, style]``; the style has
      the content view's height, width and dtype.

    **Added Keys:**

    - pos_texture_label (int): Class index of the style image, never
      ``gt_label``; -1 in ``'random'`` mode.
    - style_path (str): File of the style image.

    Args:
        style_root (str, optional): Pool folder of style images; None for
            the dataset's ``original/<split>``. Defaults to None.
        style_choice (str): ``'other_class'`` or ``'random'``. Defaults to
            ``'other_class'``.

    Attributes:
        class_folders (tuple[str]): The pool's class folders in label order
            (empty in ``'random'`` mode).

    Raises:
        FileNotFoundError: If the pool folder is missing, or holds no class
            folder (``'other_class'``), an empty class folder or no image
            (``'random'``).
        ValueError: If the ``'other_class'`` pool has fewer than two classes,
            ``style_choice`` is unknown, or a class folder holds a non-image.
    """

    def __init__(
        self, style_root: str | None = None, style_choice: str = 'other_class'
    ):
        self.style_root = style_root
        self.style_choice = style_choice
        self._donors = DonorSource(
            style_root, 'original', style_choice, 'style', 'LoadStyleImage'
        )

    @property
    def class_folders(self) -> tuple[str, ...]:
        """The pool's class folders in label order (empty in ``'random'`` mode)."""
        return self._donors.listed.class_folders

    def transform(self, results: dict) -> dict:
        """Appends a style image to the views in ``img``.

        Args:
            results (dict): Result dict with the required keys above.

        Returns:
            dict: ``results`` with the modified and added keys above.

        Raises:
            UserError: If a required key is missing; the message names it and
                the transform that adds it.
            ValueError: If ``img`` is not a list of two H×W×3 views, a style
                image cannot be decoded, or ``gt_label`` is not the pool's
                index of the anchor's class.
        """
        views = require_result(
            results,
            'img',
            'MultiView(num_views=2) after LoadImageFromFile',
            'LoadStyleImage',
        )
        if not _is_two_colour_views(views):
            shapes = (
                [getattr(view, 'shape', type(view).__name__) for view in views]
                if isinstance(views, (list, tuple))
                else getattr(views, 'shape', type(views).__name__)
            )
            raise UserError(
                'LoadStyleImage needs img = [anchor view, positive view], two '
                'HxWx3 images as made by MultiView(num_views=2); got '
                f'{shapes} for {results.get("img_path", "the image")}'
            )
        pool = self._donors.pool_for(results)
        label = None
        if self.style_choice == 'other_class':
            label = int(
                require_result(results, 'gt_label', 'the dataset', 'LoadStyleImage')
            )
            pool.check_anchor_label(results.get('img_path'), label)
        style_label, style_path = self._draw_style(pool, label)
        content = views[1]
        height, width = content.shape[:2]
        style = pool.read(style_path, height, width, content.dtype)
        results['img'] = [*views, style]
        results['pos_texture_label'] = style_label
        results['style_path'] = style_path
        return results

    @cache_randomness
    def _draw_style(self, pool: DonorPool, label: int | None) -> tuple[int, str]:
        return pool.draw(label)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}('
            f'style_root={self.style_root!r}, '
            f'style_choice={self.style_choice!r}, '
            f'pool={self._donors.describe()})'
        )


def _is_two_colour_views(views) -> bool:
    return (
        isinstance(views, (list, tuple))
        and len(views) == 2
        and all(
            isinstance(view, np.ndarray) and view.ndim == 3 and view.shape[2] == 3
            for view in views
        )
    )
