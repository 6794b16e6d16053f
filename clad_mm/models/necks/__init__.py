"""Necks of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .embedding_neck import EmbeddingNeck

__all__ = ['EmbeddingNeck']
