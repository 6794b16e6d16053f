"""MPerClassSampler: class-balanced batches, deterministic by seed, and under
two gloo ranks disjoint, class-balanced shares of one global sequence."""

from collections import Counter

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from gloo_ranks import WORLD_SIZE, free_port, gloo_process_group

from clad_mm.datasets.samplers import MPerClassSampler
from clad_mm.datasets.seeded_sample_dataset import SeededIndex
from clad_mm.utils.errors import UserError

# 12 classes of 2 to 7 images (labels in dataset order, unsorted).
LABELS = np.array(
    [
        c
        for c, size in enumerate([5, 2, 7, 4, 3, 6, 4, 5, 2, 6, 3, 4])
        for _ in range(size)
    ]
)
np.random.default_rng(0).shuffle(LABELS)


class LabelledSet:
    """The part of an MMPretrain dataset the sampler reads."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def batches(sampler, batch_size):
    indices = list(sampler)
    assert all(isinstance(index, SeededIndex) for index in indices)
    return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]


def test_every_batch_holds_m_images_of_each_of_its_classes():
    sampler = MPerClassSampler(LabelledSet(LABELS), batch_size=8, m=4, seed=3)
    all_batches = batches(sampler, 8)
    assert len(all_batches) == len(LABELS) // 8
    for batch in all_batches:
        counts = Counter(int(LABELS[index.index]) for index in batch)
        assert sorted(counts.values()) == [4, 4]
        # A class with at least m images gives m distinct images.
        for label in counts:
            members = [index.index for index in batch if LABELS[index.index] == label]
            if (LABELS == label).sum() >= 4:
                assert len(set(members)) == 4


def test_m_equal_one_gives_distinct_classes():
    sampler = MPerClassSampler(LabelledSet(LABELS), batch_size=6, m=1, seed=0)
    for batch in batches(sampler, 6):
        assert len({int(LABELS[index.index]) for index in batch}) == 6


def test_same_seed_and_epoch_same_sequence_other_epoch_or_seed_differs():
    def sequence(seed, epoch):
        sampler = MPerClassSampler(LabelledSet(LABELS), batch_size=8, m=4, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert sequence(1, 0) == sequence(1, 0)
    assert [i.index for i in sequence(1, 0)] != [i.index for i in sequence(1, 1)]
    assert [i.index for i in sequence(1, 0)] != [i.index for i in sequence(2, 0)]
    # Per-position seeds are distinct, also where an image is drawn twice.
    seeds = [index.seed for index in sequence(1, 0)]
    assert len(set(seeds)) == len(seeds)


def test_an_epoch_does_not_depend_on_the_epochs_before():
    # What --resume relies on: epoch 1 of a sampler that drew epoch 0 equals
    # epoch 1 of a new one.
    used = MPerClassSampler(LabelledSet(LABELS), batch_size=8, m=4, seed=4)
    list(used)
    used.set_epoch(1)
    fresh = MPerClassSampler(LabelledSet(LABELS), batch_size=8, m=4, seed=4)
    fresh.set_epoch(1)
    assert list(used) == list(fresh)


def test_sampling_leaves_the_global_generators_alone():
    sampler = MPerClassSampler(LabelledSet(LABELS), batch_size=8, m=4, seed=5)
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    list(sampler)
    assert np.random.rand() == expected


def test_len_is_whole_batches_of_the_epoch():
    sampler = MPerClassSampler(
        LabelledSet(LABELS), batch_size=8, m=4, samples_per_epoch=30, seed=0
    )
    assert len(sampler) == 24
    assert len(list(sampler)) == 24


@pytest.mark.parametrize(
    'kwargs, fragment',
    [
        (dict(batch_size=6, m=4), 'multiple of m'),
        (dict(batch_size=64, m=4), 'needs 16 classes, but the dataset has 12'),
        (dict(batch_size=8, m=4, samples_per_epoch=4), 'less than one global batch'),
    ],
)
def test_impossible_settings_are_refused_by_name(kwargs, fragment):
    with pytest.raises(UserError, match=fragment):
        MPerClassSampler(LabelledSet(LABELS), seed=0, **kwargs)


def run_rank(rank: int, port: int, result_file: str) -> None:
    with gloo_process_group(rank, port):
        # No seed given: the ranks must agree on the one drawn.
        sampler = MPerClassSampler(LabelledSet(LABELS), batch_size=4, m=2)
        sampler.set_epoch(2)
        mine = torch.tensor([[index.index, index.seed] for index in sampler])
        gathered = [torch.zeros_like(mine) for _ in range(WORLD_SIZE)]
        torch_dist.all_gather(gathered, mine)
        if rank == 0:
            torch.save({'shares': gathered, 'seed': sampler.seed}, result_file)


def test_two_gloo_ranks_take_disjoint_class_balanced_shares(tmp_path):
    result_file = str(tmp_path / 'shares.pth')
    mp.spawn(run_rank, args=(free_port(), result_file), nprocs=WORLD_SIZE, join=True)
    result = torch.load(result_file)
    shares = [share.tolist() for share in result['shares']]
    assert len(shares[0]) == len(shares[1]) == (len(LABELS) // 8) * 4

    # The same global sequence a single process draws with batch_size 8 and
    # the ranks' seed: rank r holds the r-th half of every global batch.
    single = MPerClassSampler(
        LabelledSet(LABELS), batch_size=8, m=2, seed=result['seed']
    )
    single.set_epoch(2)
    sequence = [[index.index, index.seed] for index in single]
    for step in range(len(sequence) // 8):
        global_batch = sequence[step * 8 : step * 8 + 8]
        rank0 = shares[0][step * 4 : step * 4 + 4]
        rank1 = shares[1][step * 4 : step * 4 + 4]
        assert rank0 == global_batch[:4] and rank1 == global_batch[4:]
        # Each rank's batch: 2 classes x 2 images; no class on both ranks.
        classes0 = Counter(int(LABELS[index]) for index, _ in rank0)
        classes1 = Counter(int(LABELS[index]) for index, _ in rank1)
        assert sorted(classes0.values()) == [2, 2] == sorted(classes1.values())
        assert not set(classes0) & set(classes1)
    # Disjoint positions: no (index, seed) pair is on both ranks.
    assert not {tuple(p) for p in shares[0]} & {tuple(p) for p in shares[1]}
