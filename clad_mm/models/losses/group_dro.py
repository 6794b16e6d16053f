"""GroupDRO's online group weights: the worst groups get the most weight.

Sagawa et al., `Distributionally Robust Neural Networks for Group Shifts
<https://arxiv.org/abs/1911.08731>`_ (ICLR 2020). The training loss is
``Σ_g q_g · L_g``, ``L_g`` the batch's mean loss over its samples of group
``g`` (0 for a group absent from the batch), and the weights ``q`` follow
exponentiated gradient ascent on the groups' losses: every step
``q_g ← q_g · exp(η · L_g)``, then ``q ← q / Σ q``. An absent group's weight
is only renormalised. The functions are pure; the caller keeps ``q``.
"""

import torch

#: GroupDRO's step size η (the paper's value).
DEFAULT_STEP_SIZE = 0.01


def group_mean_losses(
    losses: torch.Tensor, groups: torch.Tensor, num_groups: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss of every group over its samples in the batch.

    Args:
        losses (Tensor): (B,) per-sample losses (gradients flow through).
        groups (Tensor): (B,) long group of each sample, ``0..num_groups-1``.
        num_groups (int): G, all groups.

    Returns:
        tuple[Tensor, Tensor]: (G,) means (0 for a group without samples)
        and (G,) long sample counts.
    """
    counts = torch.bincount(groups, minlength=num_groups)
    sums = torch.zeros(num_groups, dtype=losses.dtype, device=losses.device)
    sums = sums.index_add(0, groups, losses)
    return sums / counts.clamp(min=1).to(losses.dtype), counts


def exponentiated_group_weights(
    weights: torch.Tensor, group_losses: torch.Tensor, step_size: float
) -> torch.Tensor:
    """One exponentiated-gradient step of the group weights, normalised.

    Args:
        weights (Tensor): (G,) current weights ``q``, summing to 1.
        group_losses (Tensor): (G,) the batch's group mean losses, 0 for
            absent groups (which then keep their weight before
            renormalisation).
        step_size (float): η.

    Returns:
        Tensor: (G,) ``q · exp(η · L) / Σ q · exp(η · L)``.
    """
    updated = weights * torch.exp(step_size * group_losses)
    return updated / updated.sum()
