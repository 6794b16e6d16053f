"""Retrievers of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .dml_retriever import DMLRetriever

__all__ = ['DMLRetriever']
