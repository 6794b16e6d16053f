"""Evaluation of clad_mm."""

from .adversarial_backgrounds import (
    build_composite_predictor,
    challenge_accuracy,
    evaluate_adversarial_backgrounds,
    format_adversarial_table,
    list_backgrounds,
    list_foregrounds,
    run_adversarial_backgrounds,
)
from .comparison import (
    comparison_columns,
    format_comparison_markdown,
    load_result,
    write_comparison_csv,
)
from .consistency import (
    cosine_similarities,
    decision_consistency,
    evaluate_consistency,
    format_consistency_table,
    pair_splits,
    summarize_consistency,
)
from .imagenet_to_in9 import imagenet_to_in9, in9_predictions
from .metrics import *  # noqa: F401,F403
from .metrics import __all__ as _metrics_all
from .positional_shift import (
    five_crop,
    format_positional_shift_table,
    positional_shift_accuracies,
    positional_views,
    predict_positional_views,
)
from .shape_bias import accuracy_drops, shape_bias_columns, shape_bias_records

__all__ = [
    'build_composite_predictor',
    'challenge_accuracy',
    'comparison_columns',
    'cosine_similarities',
    'decision_consistency',
    'evaluate_adversarial_backgrounds',
    'evaluate_consistency',
    'five_crop',
    'format_adversarial_table',
    'format_comparison_markdown',
    'format_consistency_table',
    'format_positional_shift_table',
    'imagenet_to_in9',
    'in9_predictions',
    'list_backgrounds',
    'list_foregrounds',
    'load_result',
    'pair_splits',
    'positional_shift_accuracies',
    'positional_views',
    'predict_positional_views',
    'run_adversarial_backgrounds',
    'accuracy_drops',
    'shape_bias_columns',
    'shape_bias_records',
    'summarize_consistency',
    'write_comparison_csv',
    *_metrics_all,
]
