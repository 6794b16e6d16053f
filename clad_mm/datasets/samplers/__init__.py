"""Data samplers of clad_mm (registered in ``mmpretrain.registry.DATA_SAMPLERS``)."""

from .seeded_sampler import SeededSampler

__all__ = ['SeededSampler']
