"""Batches balanced over groups (or classes), drawn with replacement, seeded."""

from collections.abc import Iterator, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from clad_mm.utils.errors import UserError
from clad_mm.utils.random_state import epoch_seed, sample_seed

from ..seeded_sample_dataset import SeededIndex

#: The data-info keys a sampler can balance over.
BALANCE_KEYS = ('group', 'gt_label')


@DATA_SAMPLERS.register_module()
class BalancedSampler(Sampler):
    """Draws every sample with probability inversely proportional to its group's size.

    The oracle reference of group robustness ("upweighting" / group-balanced
    sampling, Sagawa et al., `Distributionally Robust Neural Networks
    <https://arxiv.org/abs/1911.08731>`_, ICLR 2020): it USES the group
    labels (``key='group'``), which ClusterFix does without. With
    ``key='gt_label'`` it gives class-balanced batches (ClusterFix's CelebA
    recipe). Each value of the key is equally likely at every draw; samples
    are drawn with replacement, ``samples_per_epoch`` in all (default: the
    data set's size), as a sequence that depends on ``(seed, epoch)`` alone.
    Rank r takes every ``world_size``-th draw from position r: disjoint
    shares of one sequence. Each index comes as a :class:`SeededIndex` with
    its per-position seed, for exact resume.

    Args:
        dataset (Sized): The training set; the key is read from
            ``get_data_info(i)`` (no image is decoded).
        key (str): ``'group'`` or ``'gt_label'``. Defaults to ``'group'``.
        samples_per_epoch (int, optional): Draws per epoch over all ranks,
            rounded down to a multiple of the world size. Defaults to None
            (the data set's size).
        seed (int, optional): Seed shared by all ranks; None draws one.
            Defaults to None.

    Raises:
        UserError: If ``key`` is unknown or a sample has no such key.
    """

    def __init__(
        self,
        dataset: Sized,
        key: str = 'group',
        samples_per_epoch: int | None = None,
        seed: int | None = None,
    ) -> None:
        if key not in BALANCE_KEYS:
            raise UserError(
                f'BalancedSampler key must be one of {BALANCE_KEYS}, got {key!r}'
            )
        values = []
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            if key not in info:
                raise UserError(
                    f'BalancedSampler(key={key!r}): sample {index} of '
                    f'{type(dataset).__name__} has no {key!r} (keys: {sorted(info)})'
                )
            values.append(int(info[key]))
        self.rank, self.world_size = get_dist_info()
        self.key = key
        counts = np.bincount(values)
        present = counts[values]
        # Each present value gets 1 / (number of values) of the draws.
        self._probabilities = 1.0 / (present * np.count_nonzero(counts))
        total = len(values) if samples_per_epoch is None else samples_per_epoch
        self.num_draws = total - total % self.world_size
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    def __iter__(self) -> Iterator[SeededIndex]:
        """Iterates this rank's share of the epoch's draws."""
        generator = np.random.default_rng(epoch_seed(self.seed, self.epoch))
        draws = generator.choice(
            len(self._probabilities), size=self.num_draws, p=self._probabilities
        )
        for position in range(self.rank, self.num_draws, self.world_size):
            yield SeededIndex(
                int(draws[position]), sample_seed(self.seed, self.epoch, position)
            )

    def __len__(self) -> int:
        """Draws this rank takes per epoch."""
        return self.num_draws // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, as MMEngine's loops do before each epoch."""
        self.epoch = epoch
