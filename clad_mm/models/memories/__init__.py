"""Stateful memories of clad_mm (registered buffers, saved in checkpoints)."""

from .cluster_weight_state import ClusterWeightState
from .group_weight_state import GroupWeightState
from .negative_dictionary import NegativeDictionary

__all__ = ['ClusterWeightState', 'GroupWeightState', 'NegativeDictionary']
