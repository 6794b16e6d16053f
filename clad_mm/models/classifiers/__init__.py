"""Classifiers of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .clad_classifier import CLADClassifier

__all__ = ['CLADClassifier']
