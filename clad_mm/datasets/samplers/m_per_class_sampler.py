"""M-per-class batches for deep metric learning, seeded and shared across ranks."""

from collections.abc import Iterator, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from pytorch_metric_learning.samplers import MPerClassSampler as PMLMPerClassSampler
from torch.utils.data import Sampler

from clad_mm.utils.errors import UserError
from clad_mm.utils.random_state import (
    epoch_seed,
    sample_seed,
    seeded_global_generators,
)

from ..seeded_sample_dataset import SeededIndex


@DATA_SAMPLERS.register_module()
class MPerClassSampler(Sampler):
    """Batches of ``batch_size / m`` classes with ``m`` images each, under DDP.

    Metric-learning losses need several images of a class in a batch (pair
    losses: m = 4; proxy losses: m = 1), as in Kobs & Hotho, `On Background
    Bias in Deep Metric Learning <https://arxiv.org/abs/2210.01615>`_ (ICMV
    2022). The draws are pytorch-metric-learning's ``MPerClassSampler``
    (classes shuffled, then ``m`` images of each class, without replacement
    where the class has ``m`` images), made deterministic and distributed:

    - Every epoch, the whole epoch's sequence is drawn by a new PML sampler
      with the global generators seeded from ``(seed, epoch)`` and restored
      afterwards, so it depends on ``(seed, epoch)`` alone: the same in every
      process, every run and after ``--resume``, and sampling never moves
      the training process's random state.
    - The sequence is cut into global batches of ``batch_size × world_size``
      (PML's ``batch_size``): each holds ``batch_size × world_size / m``
      distinct classes. Rank r takes the r-th ``batch_size`` slice of every
      global batch: the ranks' shares are disjoint, each rank's batch is
      class-balanced (``batch_size / m`` classes × ``m``), and no class is on
      two ranks in one step.
    - Each index comes as a :class:`SeededIndex` whose seed is
      ``sample_seed(seed, epoch, position)`` (position in the epoch's
      sequence), so a dataset with ``SeededSampleDatasetMixin`` augments
      each draw exactly reproducibly, also when an image is drawn twice.

    ``batch_size`` must equal the dataloader's (``RunChecksHook`` checks
    this before training).

    Args:
        dataset (Sized): The training set; its labels come from
            ``get_gt_labels()`` (MMPretrain's ``BaseDataset``).
        batch_size (int): Per-rank batch size, a multiple of ``m``.
        m (int): Images per class in a batch. Defaults to 4.
        samples_per_epoch (int, optional): Samples per epoch over all ranks,
            rounded down to whole global batches. Defaults to None: the
            dataset's size.
        seed (int, optional): Seed of the draws, the same in every process;
            None draws one shared by all ranks. Defaults to None.

    Raises:
        UserError: If ``batch_size`` is not a positive multiple of ``m``, the
            dataset has fewer than ``batch_size × world_size / m`` classes,
            or the epoch holds no whole global batch.
    """

    def __init__(
        self,
        dataset: Sized,
        batch_size: int,
        m: int = 4,
        samples_per_epoch: int | None = None,
        seed: int | None = None,
    ) -> None:
        rank, world_size = get_dist_info()
        if m < 1 or batch_size < 1 or batch_size % m:
            raise UserError(
                f'MPerClassSampler needs batch_size to be a positive multiple of '
                f'm, got batch_size={batch_size} and m={m}'
            )
        labels = np.asarray(dataset.get_gt_labels())
        global_batch = batch_size * world_size
        num_classes = len(np.unique(labels))
        if num_classes * m < global_batch:
            raise UserError(
                f'MPerClassSampler: a global batch of {global_batch} '
                f'(batch_size={batch_size} x {world_size} ranks) with m={m} needs '
                f'{global_batch // m} classes, but the dataset has {num_classes}; '
                'lower batch_size or raise m'
            )
        samples_per_epoch = (
            len(labels) if samples_per_epoch is None else samples_per_epoch
        )
        self.num_global_batches = samples_per_epoch // global_batch
        if self.num_global_batches < 1:
            raise UserError(
                f'MPerClassSampler: samples_per_epoch={samples_per_epoch} is less '
                f'than one global batch ({global_batch})'
            )
        self.rank = rank
        self.world_size = world_size
        self.batch_size = batch_size
        self.m = m
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self._labels = labels

    def __iter__(self) -> Iterator[SeededIndex]:
        """Iterates this rank's share of the epoch, with sample seeds."""
        global_batch = self.batch_size * self.world_size
        # A new PML sampler every epoch: it shuffles its class list in place,
        # so a reused one would make an epoch depend on the epochs before
        # (and a resumed run differ from an uninterrupted one).
        pml_sampler = PMLMPerClassSampler(
            self._labels,
            self.m,
            batch_size=global_batch,
            length_before_new_iter=self.num_global_batches * global_batch,
        )
        with seeded_global_generators(epoch_seed(self.seed, self.epoch)):
            sequence = [int(index) for index in pml_sampler]
        for batch_start in range(0, len(sequence), global_batch):
            start = batch_start + self.rank * self.batch_size
            for position in range(start, start + self.batch_size):
                yield SeededIndex(
                    sequence[position], sample_seed(self.seed, self.epoch, position)
                )

    def __len__(self) -> int:
        """Samples this rank draws per epoch."""
        return self.num_global_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, as MMEngine's loops do before each epoch."""
        self.epoch = epoch
