"""Metrics of clad_mm (registered in ``mmpretrain.registry.METRICS``)."""

from .bg_challenge_metric import (
    BGChallengeMetric,
    bg_gap,
    format_split_table,
    split_accuracies,
)

__all__ = [
    'BGChallengeMetric',
    'bg_gap',
    'format_split_table',
    'split_accuracies',
]
