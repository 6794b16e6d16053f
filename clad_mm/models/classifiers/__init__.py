"""Classifiers of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from .clad_classifier import CLADClassifier
from .cluster_fix_classifier import ClusterFixClassifier
from .group_dro_classifier import GroupDROClassifier

__all__ = ['CLADClassifier', 'ClusterFixClassifier', 'GroupDROClassifier']
