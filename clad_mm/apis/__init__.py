"""Loading and running clad_mm classifiers outside a Runner."""

from .classifier_loading import (
    PREDICTION_MODULES,
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
    'load_classifier',
    'read_checkpoint',
    'require_checkpoint_fits',
]
