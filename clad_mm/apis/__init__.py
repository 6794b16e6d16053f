"""Loading and running clad_mm classifiers outside a Runner, and checking
the checkpoints a Runner loads."""

from .checkpoint_checks import check_checkpoints
from .classifier_loading import (
    PREDICTION_MODULES,
    checkpoint_weights,
    load_classifier,
    read_checkpoint,
    require_checkpoint_fits,
)
from .inference_pipeline import InferencePipeline
from .model_runner import ClassifierOutputs, ClassifierRunner

__all__ = [
    'PREDICTION_MODULES',
    'ClassifierOutputs',
    'ClassifierRunner',
    'InferencePipeline',
    'check_checkpoints',
    'checkpoint_weights',
    'load_classifier',
    'read_checkpoint',
    'require_checkpoint_fits',
]
