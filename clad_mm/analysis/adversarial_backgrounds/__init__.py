"""Challenge accuracy of the Background Challenge (adversarial backgrounds).

:mod:`.challenge_set` lists the foregrounds and backgrounds of a test root,
:mod:`.search` finds each foreground's first fooling background and computes
the challenge accuracy, :mod:`.resume_state` keeps the finished foregrounds
of an interrupted run, and :mod:`.runner` evaluates a config and checkpoint.
"""

from .challenge_set import (
    Background,
    Foreground,
    list_backgrounds,
    list_foregrounds,
    make_image_loader,
    sample_subset,
)
from .runner import (
    RESULT_FILE,
    STATE_FILE,
    build_composite_predictor,
    format_adversarial_table,
    run_adversarial_backgrounds,
)
from .search import challenge_accuracy, compose, evaluate_adversarial_backgrounds

__all__ = [
    'RESULT_FILE',
    'STATE_FILE',
    'Background',
    'Foreground',
    'build_composite_predictor',
    'challenge_accuracy',
    'compose',
    'evaluate_adversarial_backgrounds',
    'format_adversarial_table',
    'list_backgrounds',
    'list_foregrounds',
    'make_image_loader',
    'run_adversarial_backgrounds',
    'sample_subset',
]
