"""Data preprocessors of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .stylizing_data_preprocessor import StylizingDataPreprocessor
from .two_view_cls_data_preprocessor import TwoViewClsDataPreprocessor

__all__ = ['TwoViewClsDataPreprocessor', 'StylizingDataPreprocessor']
