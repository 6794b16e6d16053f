"""Training hooks of clad_mm (registered in ``mmpretrain.registry.HOOKS``)."""

from .deterministic_random_state_hook import DeterministicRandomStateHook
from .negative_dictionary_hook import NegativeDictionaryHook
from .run_checks_hook import RunChecksHook

__all__ = ['DeterministicRandomStateHook', 'NegativeDictionaryHook', 'RunChecksHook']
