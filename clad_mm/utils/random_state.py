"""Random state as a function of counters, for training that resumes exactly.

Training draws random numbers in two places: the data pipeline (flips,
background and texture draws, crops) and the model side (data
preprocessors, dropout). Instead of saving and restoring every generator
in every DataLoader worker, clad_mm derives the state from counters that a
checkpoint already holds:

* a sample's augmentation from ``(seed, epoch, sample index)``
  (:func:`sample_seed`, used by ``SeededSampler`` and
  ``SeededSampleDatasetMixin``);
* the main process's state before a training iteration from
  ``(seed, iteration)`` (:func:`iteration_seed`, used by
  ``DeterministicRandomStateHook``);
* a sampler's draw of an epoch's order from ``(seed, epoch)``
  (:func:`epoch_seed`, used by ``MPerClassSampler``).

All go through :class:`numpy.random.SeedSequence` with a stream number
in its spawn key, so the families never share a seed. The global
generators of ``random``, ``numpy`` and ``torch`` are what MMCV/MMPretrain
transforms and torch modules draw from, so those are the ones seeded.
"""

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import torch

# Spawn-key stream numbers: a sample's seed, an iteration's seed and an
# epoch's sampling seed are drawn from separate streams of the same run seed.
_SAMPLE_STREAM = 0
_ITERATION_STREAM = 1
_EPOCH_STREAM = 2


def _derived_seed(run_seed: int, *counters: int) -> int:
    if run_seed < 0 or any(counter < 0 for counter in counters):
        raise ValueError(
            f'random-state seeds derive from non-negative integers; got run seed '
            f'{run_seed} and counters {counters}'
        )
    sequence = np.random.SeedSequence(run_seed, spawn_key=counters)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def sample_seed(run_seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's random draws in one epoch.

    Args:
        run_seed (int): The sampler's (the run's) seed, >= 0.
        epoch (int): The epoch, as ``sampler.set_epoch`` received it.
        index (int): The sample's index in the dataset.

    Returns:
        int: A seed in ``[0, 2**32)``, the same for the same arguments in
        every process and every run.
    """
    return _derived_seed(run_seed, _SAMPLE_STREAM, epoch, index)


def iteration_seed(run_seed: int, iteration: int) -> int:
    """The seed of the main process's random draws in one training iteration.

    Args:
        run_seed (int): The runner's seed, >= 0.
        iteration (int): The number of training iterations done before.

    Returns:
        int: A seed in ``[0, 2**32)``.
    """
    return _derived_seed(run_seed, _ITERATION_STREAM, iteration)


def epoch_seed(run_seed: int, epoch: int) -> int:
    """The seed of a sampler's draws of one epoch's order.

    Args:
        run_seed (int): The sampler's (the run's) seed, >= 0.
        epoch (int): The epoch, as ``sampler.set_epoch`` received it.

    Returns:
        int: A seed in ``[0, 2**32)``.
    """
    return _derived_seed(run_seed, _EPOCH_STREAM, epoch)


def seed_global_generators(seed: int, cuda: bool = False) -> None:
    """Seeds the global generators of ``random``, ``numpy`` and ``torch``.

    Args:
        seed (int): Seed in ``[0, 2**32)``.
        cuda (bool): Whether to seed every CUDA device's generator too (when
            CUDA is available). Defaults to False: only the CPU generators,
            so that a data worker never touches a device.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    if cuda and torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@contextlib.contextmanager
def seeded_global_generators(seed: int) -> Iterator[None]:
    """Runs a block with the CPU global generators seeded, then restores them.

    The states of ``random``, ``numpy`` and torch's CPU generator are saved
    on entry and put back on exit (also after an exception), so the block's
    draws depend on ``seed`` alone and the caller's generators are left as
    they were.

    Args:
        seed (int): Seed in ``[0, 2**32)``.

    Yields:
        None
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    seed_global_generators(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
