"""ORIGINAL vs MIXED-RAND consistency (CLAD, Table 3).

:mod:`.pairing` finds the image pairs that show the same foreground;
:mod:`.metric` computes the feature similarity and decision consistency
over them.
"""

from .metric import (
    cosine_similarities,
    decision_consistency,
    evaluate_consistency,
    format_consistency_table,
    summarize_consistency,
)
from .pairing import (
    PAIRING_METHODS,
    ImagePair,
    SplitPairing,
    UnmatchedCounterpart,
    pair_splits,
    reference_mask_paths,
)

__all__ = [
    'PAIRING_METHODS',
    'ImagePair',
    'SplitPairing',
    'UnmatchedCounterpart',
    'cosine_similarities',
    'decision_consistency',
    'evaluate_consistency',
    'format_consistency_table',
    'pair_splits',
    'reference_mask_paths',
    'summarize_consistency',
]
