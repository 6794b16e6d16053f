"""ClusterFix's sample weights: up-weight the clusters whose pseudo-labels are hard.

Capitani et al., `ClusterFix: A Cluster-Based Debiasing Approach Without
Protected-Group Supervision
<https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_
(WACV 2024), after BPA (Seo et al., CVPR 2022). Every training sample
belongs to one of the clusters of its class (fixed for the run) and keeps
its last loss; every iteration:

1. a cluster's loss ``L_c`` is the mean of its members' last losses, over the
   members seen so far (unseen ones are left out; a cluster with no seen
   member has no loss and takes no part);
2. its weight is ``w_c = (L_c / Σ_c' L_c') · (N / n_c)``, ``N`` the training
   set's size, ``n_c`` the cluster's, the sum over clusters with a loss;
3. a batch sample's new weight is its cluster's, divided by the batch mean;
4. its weight becomes ``(1 − m)·w_old + m·w_new`` (m = 0.3), divided by the
   batch mean again; that is the weight of its target loss, and its new
   ``w_old``.

The losses kept are the pseudo-label losses, or, in the "split-plus"
variant, target + β·pseudo-label losses; the functions here take whichever
the caller keeps. They are pure and run under ``no_grad`` semantics (no
gradient flows into the weights).
"""

import torch

#: The weight of the new value in the moving average (BPA's momentum).
DEFAULT_MOMENTUM = 0.3


def cluster_losses(
    sample_losses: torch.Tensor,
    seen: torch.Tensor,
    cluster_ids: torch.Tensor,
    num_clusters: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean last loss of every cluster over its members seen so far.

    Args:
        sample_losses (Tensor): Last loss of every training sample, (N,).
        seen (Tensor): Whether each sample has a loss yet, (N,) bool.
        cluster_ids (Tensor): Global cluster of every sample, (N,) long.
        num_clusters (int): Number of clusters (classes × clusters per class).

    Returns:
        tuple[Tensor, Tensor]: The clusters' mean losses, (num_clusters,)
        float64 (0 where none is seen), and whether each has a seen member.
    """
    members_seen = torch.bincount(cluster_ids[seen], minlength=num_clusters)
    loss_sums = torch.zeros(num_clusters, dtype=torch.float64).index_add_(
        0, cluster_ids[seen], sample_losses[seen].double()
    )
    has_loss = members_seen > 0
    means = torch.where(has_loss, loss_sums / members_seen.clamp(min=1), 0.0)
    return means, has_loss


def cluster_weights(
    losses: torch.Tensor, has_loss: torch.Tensor, cluster_sizes: torch.Tensor
) -> torch.Tensor:
    """``w_c = (L_c / Σ L) · (N / n_c)`` for the clusters with a loss.

    Args:
        losses (Tensor): Clusters' mean losses, (K,), from :func:`cluster_losses`.
        has_loss (Tensor): Whether each cluster has one, (K,) bool.
        cluster_sizes (Tensor): Members of each cluster, (K,); their sum is N.

    Returns:
        Tensor: (K,) float64 weights; 0 for clusters without a loss (or when
        every loss is 0).
    """
    total_loss = losses[has_loss].sum()
    num_samples = cluster_sizes.sum().double()
    if total_loss <= 0:
        return torch.zeros_like(losses)
    share = losses / total_loss
    inverse_frequency = num_samples / cluster_sizes.double().clamp(min=1)
    return torch.where(has_loss, share * inverse_frequency, 0.0)


def batch_mean_one(weights: torch.Tensor) -> torch.Tensor:
    """Weights divided by their mean (all ones if the mean is 0)."""
    mean = weights.mean()
    if mean <= 0:
        return torch.ones_like(weights)
    return weights / mean


def moving_average_weights(
    new_weights: torch.Tensor,
    previous_weights: torch.Tensor,
    momentum: float = DEFAULT_MOMENTUM,
) -> torch.Tensor:
    """The batch's weights after the moving average, renormalised to mean 1.

    Args:
        new_weights (Tensor): Each batch sample's cluster weight, (B,).
        previous_weights (Tensor): Their previous weights, (B,) (1 at start).
        momentum (float): Weight of the new value. Defaults to 0.3.

    Returns:
        Tensor: ``batch_mean_one((1 − m)·previous + m·batch_mean_one(new))``.
    """
    blended = (1.0 - momentum) * previous_weights.double() + momentum * batch_mean_one(
        new_weights.double()
    )
    return batch_mean_one(blended)
