"""Comparing Runner checkpoints tensor by tensor (the exact-resume tests)."""

import torch
from mmengine.runner import CheckpointLoader


def read_full_checkpoint(path):
    # mmengine's loader, as --resume reads the file (clad_mm's safe loading).
    return CheckpointLoader.load_checkpoint(path, map_location='cpu')


def tensor_leaves(tree, prefix):
    """(name, tensor) of every tensor in nested dicts and lists."""
    if isinstance(tree, torch.Tensor):
        yield prefix, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from tensor_leaves(value, f'{prefix}.{key}')
    elif isinstance(tree, list | tuple):
        for position, value in enumerate(tree):
            yield from tensor_leaves(value, f'{prefix}[{position}]')


def checkpoint_entries(checkpoint):
    """Every weight, buffer and optimizer-state tensor of a Runner checkpoint."""
    entries = dict(tensor_leaves(checkpoint['state_dict'], 'state_dict'))
    entries.update(tensor_leaves(checkpoint['optimizer']['state'], 'optimizer'))
    return entries


def differing_entries(expected, actual):
    expected, actual = checkpoint_entries(expected), checkpoint_entries(actual)
    assert expected.keys() == actual.keys()
    return [name for name in expected if not torch.equal(expected[name], actual[name])]
