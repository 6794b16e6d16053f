"""Data transforms of clad_mm (registered in ``mmpretrain.registry.TRANSFORMS``)."""

from .load_background_from_file import LoadBackgroundFromFile
from .load_foreground_mask import LoadForegroundMask

__all__ = ['LoadBackgroundFromFile', 'LoadForegroundMask']
