"""Two-process (gloo, CPU) test: every rank holds identical queues.

Each rank initialises and updates the dictionary with its own, different
data (and batch sizes); the result must equal, on both ranks, a single
process that saw rank 0's then rank 1's data at every step.
"""

import torch
import torch.multiprocessing as mp
from gloo_ranks import WORLD_SIZE, free_port, gloo_process_group
from mmengine.dist import all_gather

from clad_mm.models.memories.negative_dictionary import NegativeDictionary

NUM_KEYS, QUEUE_SIZE, FEAT_DIM = 3, 4, 6
# Rank 0's first batch holds a single class, which leaves a queue for
# rank 1's batch to fill; the batch sizes differ between ranks.
BATCH_SIZES = {0: (3, 5, 2, 4), 1: (2, 3, 6, 4)}
INIT_LABELS = {0: torch.tensor([1, 1, 1]), 1: torch.tensor([0, 2])}


def rank_data(rank: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (features, keys) batches that one rank enqueues, step by step."""
    generator = torch.Generator().manual_seed(100 + rank)
    return [
        (
            torch.randn(batch_size, FEAT_DIM, generator=generator),
            torch.randint(0, NUM_KEYS, (batch_size,), generator=generator),
        )
        for batch_size in BATCH_SIZES[rank]
    ]


def init_features(rank: int) -> torch.Tensor:
    return torch.randn(
        len(INIT_LABELS[rank]),
        FEAT_DIM,
        generator=torch.Generator().manual_seed(200 + rank),
    )


def run_rank(rank: int, port: int, result_file: str) -> None:
    with gloo_process_group(rank, port):
        dictionary = NegativeDictionary(NUM_KEYS, QUEUE_SIZE, FEAT_DIM)
        dictionary.initialize(init_features(rank), INIT_LABELS[rank])
        for features, keys in rank_data(rank):
            dictionary.enqueue(features, keys)
        gathered = {
            name: all_gather(buffer) for name, buffer in dictionary.state_dict().items()
        }
        if rank == 0:
            torch.save(gathered, result_file)


def test_two_gloo_ranks_hold_identical_queues(tmp_path):
    result_file = str(tmp_path / 'gathered_buffers.pth')
    mp.spawn(run_rank, args=(free_port(), result_file), nprocs=WORLD_SIZE, join=True)
    gathered = torch.load(result_file)

    reference = NegativeDictionary(NUM_KEYS, QUEUE_SIZE, FEAT_DIM)
    reference.initialize(
        torch.cat([init_features(0), init_features(1)]),
        torch.cat([INIT_LABELS[0], INIT_LABELS[1]]),
    )
    for (features_0, keys_0), (features_1, keys_1) in zip(rank_data(0), rank_data(1)):
        reference.enqueue(
            torch.cat([features_0, features_1]), torch.cat([keys_0, keys_1])
        )

    assert reference.is_initialized
    for name, expected in reference.state_dict().items():
        on_rank_0, on_rank_1 = gathered[name]
        assert torch.equal(on_rank_0, on_rank_1), name
        assert torch.equal(on_rank_0, expected), name
