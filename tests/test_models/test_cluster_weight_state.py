"""ClusterWeightState: the hand example through the buffers, and two gloo ranks
holding the state of one process that saw both ranks' batches."""

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from gloo_ranks import WORLD_SIZE, free_port, gloo_process_group

from clad_mm.models.memories import ClusterWeightState
from clad_mm.utils.errors import UserError

# The 6-sample example of test_cluster_fix_weights.py: clusters 0, 0, 1, 2,
# 3, 3 (sizes 2, 1, 1, 2).
SIZES = [2, 1, 1, 2]
CLUSTERS = torch.tensor([0, 0, 1, 2, 3, 3])


def test_updates_reproduce_the_hand_example():
    state = ClusterWeightState(SIZES)
    # Step 1: samples 0, 2, 3 with losses 1, 1, 9 (weights after it are not
    # checked here; step 2 is the example).
    state.update(
        torch.tensor([0, 2, 3]), CLUSTERS[[0, 2, 3]], torch.tensor([1.0, 1.0, 9.0])
    )
    state.weights[[1, 3, 4]] = torch.tensor([1.0, 1.0, 0.5], dtype=torch.float64)
    # Step 2: samples 1, 3, 4 get 3.0, 0.5, 2.0; sample 5 stays unseen. By
    # hand (see test_cluster_fix_weights.py): weights (1.06, 0.88, 0.71) / (2.65/3).
    weights = state.update(
        torch.tensor([1, 3, 4]), CLUSTERS[[1, 3, 4]], torch.tensor([3.0, 0.5, 2.0])
    )
    expected = torch.tensor([1.06, 0.88, 0.71]) / (2.65 / 3)
    torch.testing.assert_close(weights, expected)
    torch.testing.assert_close(state.weights[[1, 3, 4]].float(), expected)
    assert state.seen.tolist() == [True] * 5 + [False]
    assert state.cluster_ids.tolist() == [0, 0, 1, 2, 3, -1]
    torch.testing.assert_close(
        state.last_losses,
        torch.tensor([1.0, 3.0, 1.0, 0.5, 2.0, 0.0], dtype=torch.float64),
    )


def test_state_is_saved_and_restored():
    state = ClusterWeightState(SIZES)
    state.update(torch.tensor([0, 5]), CLUSTERS[[0, 5]], torch.tensor([0.3, 0.9]))
    restored = ClusterWeightState(SIZES)
    restored.load_state_dict(state.state_dict())
    for name, value in state.state_dict().items():
        assert torch.equal(restored.state_dict()[name], value), name


def test_foreign_indices_and_clusters_are_named():
    state = ClusterWeightState(SIZES)
    with pytest.raises(UserError, match='6 training samples of the pseudo-label file'):
        state.update(torch.tensor([6]), torch.tensor([0]), torch.tensor([1.0]))
    with pytest.raises(UserError, match='4 clusters of the pseudo-label file'):
        state.update(torch.tensor([0]), torch.tensor([4]), torch.tensor([1.0]))


# Three steps; the ranks' batches differ in size (2 + 1, 1 + 2, 2 + 2).
RANK_BATCHES = {
    0: [([0, 2], [1.0, 2.0]), ([4], [0.5]), ([1, 5], [3.0, 0.2])],
    1: [([3], [0.7]), ([5, 0], [1.5, 0.1]), ([2, 3], [0.4, 2.5])],
}


def run_rank(rank: int, port: int, result_file: str) -> None:
    with gloo_process_group(rank, port):
        state = ClusterWeightState(SIZES)
        returned = []
        for indices, losses in RANK_BATCHES[rank]:
            indices = torch.tensor(indices)
            returned.append(
                state.update(indices, CLUSTERS[indices], torch.tensor(losses))
            )
        result = {'state': state.state_dict(), 'returned': returned}
        objects = [None] * WORLD_SIZE
        torch_dist.all_gather_object(objects, result)
        if rank == 0:
            torch.save(objects, result_file)


def test_two_gloo_ranks_hold_the_single_process_state(tmp_path):
    result_file = str(tmp_path / 'states.pth')
    mp.spawn(run_rank, args=(free_port(), result_file), nprocs=WORLD_SIZE, join=True)
    rank0, rank1 = torch.load(result_file)
    single = ClusterWeightState(SIZES)
    for step in range(3):
        indices = torch.tensor(RANK_BATCHES[0][step][0] + RANK_BATCHES[1][step][0])
        losses = torch.tensor(RANK_BATCHES[0][step][1] + RANK_BATCHES[1][step][1])
        weights = single.update(indices, CLUSTERS[indices], losses)
        split = len(RANK_BATCHES[0][step][0])
        torch.testing.assert_close(rank0['returned'][step], weights[:split])
        torch.testing.assert_close(rank1['returned'][step], weights[split:])
    for name, value in single.state_dict().items():
        assert torch.equal(rank0['state'][name], value), name
        assert torch.equal(rank1['state'][name], value), name
