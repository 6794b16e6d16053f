"""clad_mm: background and texture debiasing for MMPretrain.

Importing this package applies the compatibility fixes for today's stack
(see :mod:`clad_mm.compat`) and registers every component in MMPretrain's
registries, so configs only need::

    custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

It loads only the runtime (``datasets``, ``engine``, ``evaluation``,
``models``): the analysis drivers (:mod:`clad_mm.analysis`), the plots
(:mod:`clad_mm.visualization`) and the inference helpers
(:mod:`clad_mm.apis`) are imported where they are used, so that importing
clad_mm neither loads matplotlib nor changes a notebook's plotting backend.
"""

from .compat import apply_compat_fixes

apply_compat_fixes()

from . import datasets, engine, evaluation, models  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    '__version__',
    'apply_compat_fixes',
    'datasets',
    'engine',
    'evaluation',
    'models',
]
