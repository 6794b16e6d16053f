"""Datasets whose samples draw their random numbers from a per-sample seed."""

from typing import NamedTuple

from clad_mm.utils.random_state import seeded_global_generators


class SeededIndex(NamedTuple):
    """A dataset index with the seed of the sample's random draws.

    ``SeededSampler`` yields these; a dataset with
    :class:`SeededSampleDatasetMixin` accepts them in ``__getitem__``.

    Attributes:
        index (int): The sample's index in the dataset.
        seed (int): The seed of its pipeline's random draws, in
            ``[0, 2**32)``.
    """

    index: int
    seed: int


class SeededSampleDatasetMixin:
    """Makes a dataset's random augmentation a function of a per-sample seed.

    Put it before the dataset's base class (``class D(SeededSampleDatasetMixin,
    BaseDataset)``). ``dataset[SeededIndex(index, seed)]`` seeds the global
    ``random``, ``numpy`` and torch CPU generators from ``seed``, returns
    ``dataset[index]`` (the pipeline's draws, and those of ``BaseDataset``'s
    retries with another sample, all follow from ``seed``) and puts the
    caller's generator states back. So what a sample looks like depends only
    on its seed, not on which process loads it or what was loaded before,
    and loading never moves the generators of the process that loads it:
    with ``num_workers=0`` the training process's own random state is left
    as it was. A plain int index works as without the mixin (validation,
    testing, browsing).
    """

    #: Read by ``SeededSampler`` to check that the dataset accepts its pairs.
    accepts_seeded_indices = True

    def __getitem__(self, idx):
        if isinstance(idx, SeededIndex):
            with seeded_global_generators(idx.seed):
                return super().__getitem__(idx.index)
        return super().__getitem__(idx)
