"""Main-process random state as a function of (seed, iteration)."""

import logging

from mmengine.dist import broadcast_object_list
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from clad_mm.datasets.samplers import BalancedSampler, MPerClassSampler, SeededSampler
from clad_mm.utils.random_state import iteration_seed, seed_global_generators

#: Samplers that yield per-sample seeds (``SeededIndex``) from a ``seed``.
SEEDED_SAMPLERS = (SeededSampler, MPerClassSampler, BalancedSampler)


@HOOKS.register_module()
class DeterministicRandomStateHook(Hook):
    """Reseeds the training process before every iteration, for exact resumes.

    Before each training iteration, the global generators of ``random``,
    ``numpy`` and torch (CPU, and every CUDA device when available) are
    seeded from :func:`~clad_mm.utils.random_state.iteration_seed` of
    ``(runner.seed, runner.iter)``. What the model side draws in an
    iteration (a stylizing data preprocessor's style choice, dropout, ...)
    then depends only on the run's seed and the iteration, so a run resumed
    from any checkpoint draws what the uninterrupted run drew, and there is
    no generator state to save. ``runner.seed`` is per rank exactly when
    ``randomness.diff_rank_seed=True``, as MMEngine's own seeding.

    The data side is :class:`~clad_mm.datasets.samplers.SeededSampler`'s
    (or ``MPerClassSampler``'s or ``BalancedSampler``'s):
    at the start of training the hook sets the training sampler's seed to
    rank 0's ``runner.seed``. Both seeds are equal already, except after a
    resume under ``randomness.seed=None`` (MMEngine takes the checkpoint's
    seed after the sampler was built) or under ``diff_rank_seed=True`` (the
    sampler's seed was drawn at random). A training sampler of another type
    gets a warning: its samples' augmentation then depends on the worker
    processes, and a resumed run will differ from an uninterrupted one.
    (MMEngine's ``IterBasedTrainLoop`` starts its DataLoader iterator when
    it is built, before the resume: with ``num_workers > 0`` and
    ``randomness.seed=None`` its first pass keeps the sampler's old seed.
    Set a seed, as every clad_mm config does.)
    """

    # Before every other hook's before_train_iter, so that no hook draws
    # from the previous iteration's state.
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        sampler = runner.train_loop.dataloader.sampler
        if not isinstance(sampler, SEEDED_SAMPLERS):
            print_log(
                f'The training sampler is {type(sampler).__name__}, not '
                "one of clad_mm's seeded samplers: data augmentation is not a "
                'function of (seed, epoch, sample index), so a resumed run will '
                'not reproduce an uninterrupted one',
                logger='current',
                level=logging.WARNING,
            )
            return
        seeds = [runner.seed]
        broadcast_object_list(seeds)  # in place: rank 0's on every rank
        rank0_seed = seeds[0]
        if sampler.seed != rank0_seed:
            print_log(
                f'{type(sampler).__name__}: seed {sampler.seed} -> {rank0_seed} (the '
                "runner's seed, as in the run being resumed)",
                logger='current',
            )
            sampler.seed = rank0_seed

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        seed_global_generators(iteration_seed(runner.seed, runner.iter), cuda=True)
