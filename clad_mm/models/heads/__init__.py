"""Heads of clad_mm (registered in MMPretrain's ``MODELS``)."""

from .info_nce_head import InfoNCEHead

__all__ = ['InfoNCEHead']
