"""Data transforms of clad_mm (registered in ``mmpretrain.registry.TRANSFORMS``)."""

from .apply_to_replaced_copies import ApplyToReplacedCopies
from .background_swap import BackgroundSwap
from .bg_augment import BGAugment
from .load_background_from_file import LoadBackgroundFromFile
from .load_foreground_mask import LoadForegroundMask
from .load_foreground_matte import LoadForegroundMatte
from .load_pseudo_label import LoadPseudoLabel
from .load_style_image import LoadStyleImage
from .texture_swap import TextureSwap
from .two_view_pipeline import TwoViewPipeline

__all__ = ['LoadBackgroundFromFile', 'LoadForegroundMask']
__all__ += ['ApplyToReplacedCopies', 'BGAugment', 'LoadForegroundMatte']
__all__ += ['LoadPseudoLabel']
__all__ += ['BackgroundSwap', 'TwoViewPipeline', 'TextureSwap', 'LoadStyleImage']
