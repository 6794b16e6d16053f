"""Heads of clad_mm (registered in MMPretrain's ``MODELS``)."""

from .info_nce_head import InfoNCEHead
from .metric_learning_head import MetricLearningHead

__all__ = ['InfoNCEHead', 'MetricLearningHead']
