"""Metrics of clad_mm (registered in ``mmpretrain.registry.METRICS``)."""

from .bg_challenge_metric import (
    BGChallengeMetric,
    bg_gap,
    format_split_table,
    split_accuracies,
)
from .dml_retrieval_metric import DMLRetrievalMetric, format_retrieval_table
from .retrieval_knn import retrieval_metrics

__all__ = [
    'BGChallengeMetric',
    'DMLRetrievalMetric',
    'bg_gap',
    'format_retrieval_table',
    'format_split_table',
    'retrieval_metrics',
    'split_accuracies',
]
