"""Models of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from . import classifiers, data_preprocessors, heads, losses, memories  # noqa: F401
