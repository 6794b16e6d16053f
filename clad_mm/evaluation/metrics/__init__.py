"""Metrics of clad_mm (registered in ``mmpretrain.registry.METRICS``)."""

from .bg_challenge_metric import (
    BGChallengeMetric,
    bg_gap,
    format_split_table,
    split_accuracies,
)
from .dml_retrieval_metric import DMLRetrievalMetric, format_retrieval_table
from .group_accuracy_metric import (
    GroupAccuracyMetric,
    format_group_table,
    group_accuracies,
    group_sizes,
    train_weighted_mean,
    unweighted_group_mean,
    worst_group,
)
from .retrieval_knn import retrieval_metrics

__all__ = [
    'BGChallengeMetric',
    'DMLRetrievalMetric',
    'GroupAccuracyMetric',
    'bg_gap',
    'format_group_table',
    'format_retrieval_table',
    'format_split_table',
    'group_accuracies',
    'group_sizes',
    'retrieval_metrics',
    'split_accuracies',
    'train_weighted_mean',
    'unweighted_group_mean',
    'worst_group',
]
