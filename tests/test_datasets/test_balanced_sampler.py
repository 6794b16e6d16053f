"""BalancedSampler: every group equally likely, seeded, disjoint rank shares."""

from collections import Counter

import numpy as np
import pytest

from clad_mm.datasets.samplers import BalancedSampler
from clad_mm.datasets.seeded_sample_dataset import SeededIndex
from clad_mm.utils.errors import UserError

# Waterbirds-like: groups of 570, 30, 30, 570 samples.
GROUPS = np.repeat([0, 1, 2, 3], [570, 30, 30, 570])


class GroupSet:
    def __init__(self, groups):
        self.groups = groups

    def __len__(self):
        return len(self.groups)

    def get_data_info(self, index):
        return {
            'group': int(self.groups[index]),
            'gt_label': int(self.groups[index] // 2),
        }


def test_groups_are_drawn_equally_often():
    sampler = BalancedSampler(GroupSet(GROUPS), seed=0, samples_per_epoch=40000)
    drawn = [index.index for index in sampler]
    assert all(isinstance(index, SeededIndex) for index in sampler)
    counts = Counter(int(GROUPS[i]) for i in drawn)
    # 10 000 expected per group; 5 sigma of a binomial(40000, 1/4) is 433.
    for group in range(4):
        assert abs(counts[group] - 10000) < 433
    # Within a group, uniform: the minority group's 30 samples all appear.
    assert {i for i in drawn if GROUPS[i] == 1} == set(range(570, 600))


def test_class_balance_by_gt_label():
    sampler = BalancedSampler(GroupSet(GROUPS), key='gt_label', seed=0)
    counts = Counter(int(GROUPS[index.index] // 2) for index in sampler)
    assert abs(counts[0] - counts[1]) < 5 * np.sqrt(len(GROUPS) / 4)


def test_an_epoch_depends_on_seed_and_epoch_only():
    def epoch(seed, number):
        sampler = BalancedSampler(GroupSet(GROUPS), seed=seed)
        sampler.set_epoch(number)
        return list(sampler)

    assert epoch(1, 3) == epoch(1, 3)
    assert epoch(1, 3) != epoch(1, 4) and epoch(1, 3) != epoch(2, 3)
    assert len(epoch(1, 0)) == len(GROUPS)


def test_rank_shares_are_disjoint_positions_of_one_sequence(monkeypatch):
    whole = list(BalancedSampler(GroupSet(GROUPS), seed=5, samples_per_epoch=101))
    shares = []
    for rank in range(2):
        monkeypatch.setattr(
            'clad_mm.datasets.samplers.balanced_sampler.get_dist_info',
            lambda r=rank: (r, 2),
        )
        shares.append(
            list(BalancedSampler(GroupSet(GROUPS), seed=5, samples_per_epoch=101))
        )
    # 101 draws round down to 100: rank r takes positions r, r + 2, ...
    assert shares[0] == whole[0:100:2] and shares[1] == whole[1:100:2]


def test_unknown_key_and_missing_groups_are_named():
    with pytest.raises(UserError, match='key must be one of'):
        BalancedSampler(GroupSet(GROUPS), key='place')

    class NoGroups(GroupSet):
        def get_data_info(self, index):
            return {'gt_label': 0}

    with pytest.raises(UserError, match="sample 0 of NoGroups has no 'group'"):
        BalancedSampler(NoGroups(GROUPS))
