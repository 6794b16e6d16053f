"""Gathering per-sample batches across ranks, for state that all ranks share."""

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank, is_distributed


def gather_batches(*tensors: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], int]:
    """Every rank's rows of each tensor, concatenated in rank order.

    Batches may differ in size across ranks (e.g. the last one of an epoch),
    while ``all_gather`` needs equal shapes: each tensor is padded along its
    first dimension to the largest batch and trimmed back. Without a
    process group the tensors are returned unchanged.

    Args:
        *tensors (Tensor): This rank's batch tensors, all with the same first
            dimension B (per-sample rows).

    Returns:
        tuple[tuple[Tensor, ...], int]: Each tensor's rows of all ranks,
        ``[M, ...]``, the same on every rank; and where this rank's rows start
        among them.
    """
    if not is_distributed():
        return tensors, 0
    sizes = [int(size) for size in all_gather(torch.tensor([len(tensors[0])]))]
    padding = max(sizes) - len(tensors[0])
    gathered = []
    for tensor in tensors:
        # F.pad's pad pairs run from the last dimension to the first.
        padded = F.pad(tensor, (0, 0) * (tensor.dim() - 1) + (0, padding))
        parts = all_gather(padded)
        gathered.append(torch.cat([part[:size] for part, size in zip(parts, sizes)]))
    return tuple(gathered), sum(sizes[: get_rank()])
