"""A sampler that hands each sample the seed of its random augmentation."""

from collections.abc import Iterator, Sized

from mmengine.dataset import DefaultSampler
from mmpretrain.registry import DATA_SAMPLERS

from clad_mm.utils.errors import UserError
from clad_mm.utils.random_state import sample_seed

from ..seeded_sample_dataset import SeededIndex


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """MMEngine's ``DefaultSampler`` that pairs each index with a sample seed.

    The order, the rank shares and ``round_up`` are ``DefaultSampler``'s
    (a permutation from ``seed + epoch`` when ``shuffle``, every
    ``world_size``-th index from ``rank``); each index comes as a
    :class:`~clad_mm.datasets.seeded_sample_dataset.SeededIndex` whose seed
    is :func:`~clad_mm.utils.random_state.sample_seed` of ``(seed, epoch,
    index)``. A dataset with ``SeededSampleDatasetMixin`` runs the sample's
    pipeline from that seed, so its augmentation in an epoch is the same in
    every run, in every DataLoader worker and after ``--resume``, whatever
    ``num_workers``. (A sample repeated by ``round_up`` to fill the last
    rank gets the same augmentation both times.)

    The runner builds the sampler with its seed; ``DeterministicRandomStateHook``
    keeps it equal to the runner's seed after a resume whose config has
    ``randomness.seed=None`` (MMEngine then takes the checkpoint's seed, after
    the sampler was built).

    Args:
        dataset (Sized): The dataset; it must accept seeded indices
            (``SeededSampleDatasetMixin``).
        shuffle (bool): Whether to shuffle the dataset. Defaults to True.
        seed (int, optional): Seed of the order and of the sample seeds,
            the same in every process. None draws one shared by all ranks
            (``DefaultSampler``'s rule). Defaults to None.
        round_up (bool): Whether to repeat samples so that every rank gets
            as many. Defaults to True.

    Raises:
        UserError: If the dataset does not accept seeded indices.
    """

    def __init__(
        self,
        dataset: Sized,
        shuffle: bool = True,
        seed: int | None = None,
        round_up: bool = True,
    ) -> None:
        if not getattr(dataset, 'accepts_seeded_indices', False):
            raise UserError(
                f'SeededSampler needs a dataset that accepts seeded indices, got '
                f'{type(dataset).__name__}; give the dataset class '
                'clad_mm.datasets.SeededSampleDatasetMixin as its first base, or '
                "use sampler=dict(type='DefaultSampler') (augmentation then "
                'depends on the worker processes and is not restored by --resume)'
            )
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)

    def __iter__(self) -> Iterator[SeededIndex]:
        """Iterates this rank's indices with their sample seeds."""
        seed, epoch = self.seed, self.epoch
        for index in super().__iter__():
            yield SeededIndex(index, sample_seed(seed, epoch, index))
