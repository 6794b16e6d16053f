"""Utilities shared by clad_mm's tools."""

from .tool_config import apply_launcher_and_work_dir, set_dataloader_defaults

__all__ = ['apply_launcher_and_work_dir', 'set_dataloader_defaults']
