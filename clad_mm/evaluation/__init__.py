"""Evaluation of clad_mm."""

from .metrics import *  # noqa: F401,F403
