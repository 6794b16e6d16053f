"""Training hooks of clad_mm (registered in ``mmpretrain.registry.HOOKS``)."""

from .negative_dictionary_hook import NegativeDictionaryHook

__all__ = ['NegativeDictionaryHook']
