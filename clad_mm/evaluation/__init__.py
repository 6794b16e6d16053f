"""Evaluation of clad_mm: the registered metrics.

Analysis drivers (adversarial backgrounds, consistency, positional shift,
shape bias, comparison tables) live in :mod:`clad_mm.analysis`, which
``import clad_mm`` does not load.
"""

from .metrics import BGChallengeMetric, bg_gap, format_split_table, split_accuracies

__all__ = ['BGChallengeMetric', 'bg_gap', 'format_split_table', 'split_accuracies']
