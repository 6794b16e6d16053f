import copy
from collections.abc import Callable, Sequence

from mmcv.transforms import BaseTransform, Compose
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError

# Not handed to the views: each view gets its own image as ``img``, and the
# mask would no longer match an image that a view crops or flips.
_KEYS_NOT_IN_VIEWS = ('img', 'pos_img', 'fg_mask')


def compose_transforms(transforms: Sequence[dict | Callable]) -> Compose:
    """A pipeline of transform configs (or callables), built from MMPretrain's
    registry so that its transforms are found without a default scope
    (mmcv's ``Compose`` looks in mmcv's registry)."""
    return Compose(
        [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms]
    )


@TRANSFORMS.register_module()
class TwoViewPipeline(BaseTransform):
    """Augment CLAD's anchor and positive independently into two views.

    In CLAD (Wang et al., `CLAD: A Contrastive Learning based Approach for
    Background Debiasing <https://arxiv.org/abs/2210.02748>`_, BMVC 2022) the
    anchor and its positive (built by :class:`BackgroundSwap`) each get their
    own RandomResizedCrop, flip and so on. This wrapper runs
    ``anchor_pipeline`` on the anchor and
    ``positive_pipeline`` on the positive, each on its own deep copy of the
    results with its image under ``img``, so every random transform draws
    its parameters once per view. Like mmpretrain's ``MultiView`` it returns
    the views as a list under ``img``, which ``PackInputs`` packs into a list
    of two input tensors: ``inputs[0]`` the anchor, ``inputs[1]`` the
    positive.

    The foreground mask is not carried into the views: it is only needed for
    the paste, which :class:`BackgroundSwap` has done before, at the loaded
    resolution. mmpretrain's ``RandomResizedCrop`` and ``RandomFlip`` move
    ``img`` only, so a mask carried along would silently stop matching its
    view; ``fg_mask`` is therefore removed from the results.

    The other keys of the output (``gt_label``, ``pos_bg_label``,
    ``img_shape``, ``flip``, ...) are those of the anchor's view: labels pass
    through the views unchanged, and meta information describes the anchor,
    as it would without the positive.

    **Required Keys:**

    - img: The anchor image.
    - pos_img: The positive image (added by :class:`BackgroundSwap`).

    **Modified Keys:**

    - img: ``[anchor view, positive view]``.
    - Keys set by the anchor's transforms (e.g. ``img_shape``, ``flip``).

    **Deleted Keys:**

    - pos_img
    - fg_mask

    Args:
        anchor_pipeline (Sequence[dict | Callable]): Transforms (configs or
            objects) for the anchor.
        positive_pipeline (Sequence[dict | Callable], optional): Transforms
            for the positive. None applies ``anchor_pipeline`` to the
            positive too, with its own random draws. Defaults to None.
    """

    def __init__(
        self,
        anchor_pipeline: Sequence[dict | Callable],
        positive_pipeline: Sequence[dict | Callable] | None = None,
    ):
        self.anchor_pipeline = compose_transforms(anchor_pipeline)
        self.positive_pipeline = (
            self.anchor_pipeline
            if positive_pipeline is None
            else compose_transforms(positive_pipeline)
        )

    def transform(self, results: dict) -> dict | None:
        """Replaces ``img`` and ``pos_img`` by the list of the two views.

        Args:
            results (dict): Result dict with ``img`` and ``pos_img``.

        Returns:
            dict | None: The anchor view's results with ``img`` holding both
            views, or None if a view's pipeline drops the sample.

        Raises:
            UserError: If ``img`` or ``pos_img`` is missing.
        """
        for key, provider in (
            ('img', 'LoadImageFromFile'),
            ('pos_img', 'BackgroundSwap'),
        ):
            if key not in results:
                raise UserError(
                    f'TwoViewPipeline needs {key!r} in the results (added by '
                    f'{provider}); got keys {sorted(results)}'
                )
        shared = {
            key: value
            for key, value in results.items()
            if key not in _KEYS_NOT_IN_VIEWS
        }
        anchor = self.anchor_pipeline({**copy.deepcopy(shared), 'img': results['img']})
        positive = self.positive_pipeline(
            {**copy.deepcopy(shared), 'img': results['pos_img']}
        )
        if anchor is None or positive is None:
            return None
        anchor['img'] = [anchor['img'], positive['img']]
        return anchor

    def __repr__(self) -> str:
        positive = (
            'same as anchor'
            if self.positive_pipeline is self.anchor_pipeline
            else str(self.positive_pipeline)
        )
        return (
            f'{self.__class__.__name__}(\n'
            f'anchor_pipeline={self.anchor_pipeline},\n'
            f'positive_pipeline={positive})'
        )
