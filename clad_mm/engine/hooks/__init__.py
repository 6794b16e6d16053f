"""Training hooks of clad_mm (registered in ``mmpretrain.registry.HOOKS``)."""
