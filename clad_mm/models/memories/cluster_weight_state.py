"""ClusterFix's per-sample state: last losses and moving-average weights."""

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from clad_mm.utils.distributed import gather_batches
from clad_mm.utils.errors import UserError

from ..losses.cluster_fix_weights import (
    DEFAULT_MOMENTUM,
    cluster_losses,
    cluster_weights,
    moving_average_weights,
)


@MODELS.register_module()
class ClusterWeightState(BaseModule):
    """Every training sample's cluster, last loss and weight, as buffers.

    The memory of ClusterFix (Capitani et al., `ClusterFix: A Cluster-Based
    Debiasing Approach Without Protected-Group Supervision
    <https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_,
    WACV 2024): :meth:`update` records a training batch's losses and returns
    its sample weights, computed as :mod:`clad_mm.models.losses.cluster_fix_weights`
    describes. The batch is first gathered from all ranks by sample index,
    so every rank applies the same update to the same state and computes the
    weights of the whole global batch (normalised over it); each rank
    returns its own samples' share. A run on W ranks thus holds, step by
    step, the state of one process that saw the ranks' batches together.

    State (registered buffers, saved in checkpoints, so ``--resume`` is
    exact): ``cluster_ids`` (N,) long, each sample's global cluster (-1
    until its first batch); ``last_losses`` (N,) float64; ``seen`` (N,)
    bool; ``weights`` (N,) float64, the moving averages (1 at start).
    ``cluster_sizes`` (K,) long is fixed at construction, from the
    pseudo-label file's training clusters.

    Args:
        cluster_sizes (list[int]): Training samples per global cluster;
            their sum is the training set's size N.
        momentum (float): Weight of the new value in the moving average.
            Defaults to 0.3.
        init_cfg (dict, optional): Unused (no weights). Defaults to None.
    """

    def __init__(
        self,
        cluster_sizes: list[int],
        momentum: float = DEFAULT_MOMENTUM,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        sizes = torch.as_tensor(cluster_sizes, dtype=torch.long)
        if sizes.dim() != 1 or len(sizes) == 0 or (sizes < 0).any():
            raise UserError(
                f'cluster_sizes must be a non-empty list of counts, got {cluster_sizes}'
            )
        if not 0.0 < momentum <= 1.0:
            raise UserError(f'momentum must lie in (0, 1], got {momentum}')
        num_samples = int(sizes.sum())
        self.momentum = momentum
        self.register_buffer('cluster_sizes', sizes)
        self.register_buffer('cluster_ids', torch.full((num_samples,), -1))
        self.register_buffer(
            'last_losses', torch.zeros(num_samples, dtype=torch.float64)
        )
        self.register_buffer('seen', torch.zeros(num_samples, dtype=torch.bool))
        self.register_buffer('weights', torch.ones(num_samples, dtype=torch.float64))

    @property
    def num_samples(self) -> int:
        """The training set's size N."""
        return len(self.weights)

    @torch.no_grad()
    def update(
        self, sample_idx: torch.Tensor, cluster_ids: torch.Tensor, losses: torch.Tensor
    ) -> torch.Tensor:
        """Records a training batch's losses and returns its sample weights.

        Args:
            sample_idx (Tensor): Dataset indices of this rank's batch, (B,).
            cluster_ids (Tensor): Their global clusters, (B,).
            losses (Tensor): Their losses to keep (pseudo-label losses, or
                target + β·pseudo-label for "split-plus"), (B,).

        Returns:
            Tensor: This rank's sample weights, (B,), float32 on the losses'
            device, detached.

        Raises:
            UserError: If an index is outside the training set or a cluster
                outside the pseudo-labels' clusters.
        """
        device = self.weights.device
        local = (
            sample_idx.to(device).long(),
            cluster_ids.to(device).long(),
            losses.detach().to(device).double(),
        )
        (indices, clusters, batch_losses), rank_offset = gather_batches(*local)
        if (indices < 0).any() or (indices >= self.num_samples).any():
            raise UserError(
                f'sample indices {indices.tolist()} do not all lie in the '
                f'{self.num_samples} training samples of the pseudo-label file: '
                'the pseudo-labels belong to another training set'
            )
        if (clusters < 0).any() or (clusters >= len(self.cluster_sizes)).any():
            raise UserError(
                f'clusters {clusters.tolist()} are not all among the '
                f'{len(self.cluster_sizes)} clusters of the pseudo-label file'
            )
        self.cluster_ids[indices] = clusters
        self.last_losses[indices] = batch_losses
        self.seen[indices] = True
        means, has_loss = cluster_losses(
            self.last_losses, self.seen, self.cluster_ids, len(self.cluster_sizes)
        )
        per_cluster = cluster_weights(means, has_loss, self.cluster_sizes)
        batch_weights = moving_average_weights(
            per_cluster[clusters], self.weights[indices], self.momentum
        )
        self.weights[indices] = batch_weights
        mine = batch_weights[rank_offset : rank_offset + len(sample_idx)]
        return mine.to(device=losses.device, dtype=torch.float32)
