"""Engine extensions of clad_mm."""

from . import hooks  # noqa: F401
