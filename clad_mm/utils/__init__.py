"""Utilities shared by clad_mm's tools."""

from .tool_config import (
    add_model_analysis_arguments,
    apply_launcher_and_work_dir,
    check_model_analysis_arguments,
    generate_synthetic_set,
    positive_int,
    set_dataloader_defaults,
    synthetic_set_parser,
)

__all__ = [
    'add_model_analysis_arguments',
    'apply_launcher_and_work_dir',
    'check_model_analysis_arguments',
    'generate_synthetic_set',
    'positive_int',
    'set_dataloader_defaults',
    'synthetic_set_parser',
]
