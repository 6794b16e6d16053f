"""Models of clad_mm (registered in ``mmpretrain.registry.MODELS``)."""

from . import (  # noqa: F401
    classifiers,
    data_preprocessors,
    heads,
    losses,
    memories,
    necks,
    retrievers,
    stylization,
)
