"""Data samplers of clad_mm (registered in ``mmpretrain.registry.DATA_SAMPLERS``)."""

from .m_per_class_sampler import MPerClassSampler
from .seeded_sampler import SeededSampler

__all__ = ['MPerClassSampler', 'SeededSampler']
