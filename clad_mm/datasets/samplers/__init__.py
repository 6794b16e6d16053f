"""Data samplers of clad_mm (registered in ``mmpretrain.registry.DATA_SAMPLERS``)."""

from .balanced_sampler import BalancedSampler
from .m_per_class_sampler import MPerClassSampler
from .seeded_sampler import SeededSampler

__all__ = ['BalancedSampler', 'MPerClassSampler', 'SeededSampler']
