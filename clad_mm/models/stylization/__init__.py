"""Image stylization models of clad_mm (S-CLAD's texture-swapped positives)."""

from .adain import AdaINStylizer, adain

__all__ = ['AdaINStylizer', 'adain']
