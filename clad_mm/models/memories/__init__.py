"""Stateful memories of clad_mm (registered buffers, saved in checkpoints)."""

from .negative_dictionary import NegativeDictionary

__all__ = ['NegativeDictionary']
