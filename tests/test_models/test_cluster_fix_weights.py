"""ClusterFix's weight maths on a 6-sample, 2-class, 4-cluster example by hand."""

import pytest
import torch

from clad_mm.models.losses import (
    batch_mean_one,
    cluster_losses,
    cluster_weights,
    moving_average_weights,
)

# Class 0 has clusters 0 and 1, class 1 clusters 2 and 3 (global id = local
# id + 2 * class). Samples 0-5 lie in clusters 0, 0, 1, 2, 3, 3: sizes
# n = (2, 1, 1, 2), N = 6.
CLUSTERS = torch.tensor([0, 0, 1, 2, 3, 3])
SIZES = torch.tensor([2, 1, 1, 2])
# Last losses after this iteration's batch (samples 1, 3, 4 got 3.0, 0.5,
# 2.0; samples 0 and 2 kept 1.0 from before; sample 5 is still unseen).
LOSSES = torch.tensor([1.0, 3.0, 1.0, 0.5, 2.0, 0.0])
SEEN = torch.tensor([True, True, True, True, True, False])


def test_cluster_losses_average_the_seen_members():
    # L0 = (1 + 3) / 2 = 2, L1 = 1, L2 = 0.5, L3 = 2 (sample 4 alone: 5 unseen).
    losses, has_loss = cluster_losses(LOSSES, SEEN, CLUSTERS, 4)
    torch.testing.assert_close(
        losses, torch.tensor([2.0, 1.0, 0.5, 2.0], dtype=torch.float64)
    )
    assert has_loss.tolist() == [True, True, True, True]


def test_cluster_weights_share_of_loss_times_inverse_frequency():
    # Σ L = 5.5; w = (L / 5.5) * (6 / n):
    # w0 = (2 / 5.5) * 3 = 12/11, w1 = (1 / 5.5) * 6 = 12/11,
    # w2 = (0.5 / 5.5) * 6 = 6/11, w3 = (2 / 5.5) * 3 = 12/11.
    losses, has_loss = cluster_losses(LOSSES, SEEN, CLUSTERS, 4)
    weights = cluster_weights(losses, has_loss, SIZES)
    expected = torch.tensor([12 / 11, 12 / 11, 6 / 11, 12 / 11], dtype=torch.float64)
    torch.testing.assert_close(weights, expected)


def test_batch_renormalisation_and_moving_average():
    # Batch = samples 1, 3, 4 (clusters 0, 2, 3): new = (12, 6, 12)/11, mean
    # 10/11 -> (1.2, 0.6, 1.2). Previous weights (1.0, 1.0, 0.5):
    # 0.7 * old + 0.3 * new = (1.06, 0.88, 0.71), mean 2.65/3 -> divided:
    # (1.2, 0.996226..., 0.803773...).
    new = torch.tensor([12 / 11, 6 / 11, 12 / 11], dtype=torch.float64)
    torch.testing.assert_close(
        batch_mean_one(new), torch.tensor([1.2, 0.6, 1.2], dtype=torch.float64)
    )
    weights = moving_average_weights(new, torch.tensor([1.0, 1.0, 0.5]))
    expected = torch.tensor([1.06, 0.88, 0.71], dtype=torch.float64) / (2.65 / 3)
    torch.testing.assert_close(weights, expected)
    assert weights.mean().item() == pytest.approx(1.0)


def test_a_cluster_without_seen_members_takes_no_part():
    # Only sample 0 seen (loss 1): cluster 0 holds all the loss; w0 = 1 * 6/2.
    seen = torch.tensor([True, False, False, False, False, False])
    losses, has_loss = cluster_losses(LOSSES, seen, CLUSTERS, 4)
    assert has_loss.tolist() == [True, False, False, False]
    weights = cluster_weights(losses, has_loss, SIZES)
    torch.testing.assert_close(
        weights, torch.tensor([3.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    )


def test_all_zero_losses_or_weights_fall_back_to_equal_weights():
    zero = torch.zeros(6)
    losses, has_loss = cluster_losses(zero, SEEN, CLUSTERS, 4)
    assert cluster_weights(losses, has_loss, SIZES).abs().sum() == 0
    torch.testing.assert_close(batch_mean_one(torch.zeros(3)), torch.ones(3))
