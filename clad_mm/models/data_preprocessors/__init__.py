"""Data preprocessors of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .two_view_cls_data_preprocessor import TwoViewClsDataPreprocessor

__all__ = ['TwoViewClsDataPreprocessor']
