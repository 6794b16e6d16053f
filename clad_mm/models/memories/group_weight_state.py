"""GroupDRO's group weights, as a buffer shared by all ranks."""

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from clad_mm.utils.distributed import gather_batches
from clad_mm.utils.errors import UserError

from ..losses.group_dro import (
    DEFAULT_STEP_SIZE,
    exponentiated_group_weights,
    group_mean_losses,
)


@MODELS.register_module()
class GroupWeightState(BaseModule):
    """The weight ``q`` of every group in GroupDRO's robust loss.

    Sagawa et al., `Distributionally Robust Neural Networks for Group Shifts
    <https://arxiv.org/abs/1911.08731>`_ (ICLR 2020). :meth:`update` takes a
    training batch's per-sample losses and groups, gathered from all ranks,
    and applies one step of
    :func:`~clad_mm.models.losses.group_dro.exponentiated_group_weights`
    with the global batch's group mean losses: every rank applies the same
    update, so a run on W ranks holds the weights of one process that saw
    the ranks' batches together.

    State (a registered buffer, saved in checkpoints, so ``--resume`` is
    exact): ``weights`` (G,) float64, ``1 / G`` at start.

    Args:
        num_groups (int): G, the number of groups.
        step_size (float): η. Defaults to 0.01.
        init_cfg (dict, optional): Unused (no weights). Defaults to None.
    """

    def __init__(
        self,
        num_groups: int,
        step_size: float = DEFAULT_STEP_SIZE,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_groups, int) or num_groups < 1:
            raise UserError(f'num_groups must be a positive int, got {num_groups!r}')
        if step_size < 0:
            raise UserError(f'step_size must be non-negative, got {step_size}')
        self.num_groups = num_groups
        self.step_size = step_size
        self.register_buffer(
            'weights', torch.full((num_groups,), 1.0 / num_groups, dtype=torch.float64)
        )

    @torch.no_grad()
    def update(self, losses: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        """Steps the weights with a training batch's losses.

        Args:
            losses (Tensor): This rank's per-sample losses, (B,).
            groups (Tensor): Their groups, (B,).

        Returns:
            Tensor: The new weights, (G,), float32 on the losses' device.

        Raises:
            UserError: If a group is outside ``0..num_groups-1``.
        """
        device = self.weights.device
        (all_losses, all_groups), _ = gather_batches(
            losses.detach().to(device).double(), groups.to(device).long()
        )
        if (all_groups < 0).any() or (all_groups >= self.num_groups).any():
            raise UserError(
                f'groups {all_groups.tolist()} are not all among the '
                f'{self.num_groups} groups 0..{self.num_groups - 1} '
                '(model.num_groups)'
            )
        means, _ = group_mean_losses(all_losses, all_groups, self.num_groups)
        self.weights.copy_(
            exponentiated_group_weights(self.weights, means, self.step_size)
        )
        return self.weights.to(device=losses.device, dtype=torch.float32)
