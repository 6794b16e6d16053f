"""Run transforms only on the background-replaced copies of a test set."""

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from .two_view_pipeline import compose_transforms


@TRANSFORMS.register_module()
class ApplyToReplacedCopies(BaseTransform):
    """Apply ``transforms`` to a sample only if it is a background-replaced copy.

    The "replaced backgrounds" test of Kobs & Hotho, `On Background Bias in
    Deep Metric Learning <https://arxiv.org/abs/2210.01615>`_ (ICMV 2022)
    evaluates the clean test set and K copies of it composited on test
    backgrounds. The retrieval datasets with ``background_draws=K`` mark
    each copy with ``bg_draw`` = 0..K-1 and the clean images with -1; this
    wrapper runs its transforms (``LoadForegroundMatte`` then
    :class:`BGAugment`) on the copies only. Clean images, and images without
    ``bg_draw`` (those of MMPretrain's inferencers, which use the test
    pipeline), pass unchanged, so neither needs a matte.

    **Required Keys:**

    - bg_draw (int, optional): The sample's copy; absent or -1 for a clean
      image.

    Args:
        transforms (list[dict]): The transforms to run on replaced copies.
    """

    def __init__(self, transforms: list[dict]) -> None:
        self.transform_cfgs = transforms
        self._transforms = None

    def transform(self, results: dict) -> dict | None:
        """Runs the transforms on a replaced copy; returns others unchanged."""
        if results.get('bg_draw', -1) < 0:
            return results
        if self._transforms is None:
            # Built at the first replaced copy, so that a pipeline that never
            # sees one (an inferencer's) needs no background pool on disk.
            self._transforms = compose_transforms(self.transform_cfgs)
        return self._transforms(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transform_cfgs!r})'
