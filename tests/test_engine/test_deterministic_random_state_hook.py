"""DeterministicRandomStateHook: the training process's random state before
an iteration is a function of (runner seed, iteration); the training
sampler's seed follows the runner's."""

import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.dataset import DefaultSampler
from mmpretrain.registry import HOOKS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.datasets import SeededSampleDatasetMixin, SeededSampler
from clad_mm.engine.hooks import deterministic_random_state_hook


class SeededRange(SeededSampleDatasetMixin, list):
    pass


def runner_at(seed, iteration, sampler=None):
    return SimpleNamespace(
        seed=seed,
        iter=iteration,
        train_loop=SimpleNamespace(dataloader=SimpleNamespace(sampler=sampler)),
    )


def model_side_draws():
    return random.random(), float(np.random.rand()), torch.rand(4).tolist()


def draws_after_hook(hook, seed, iteration):
    hook.before_train_iter(runner_at(seed, iteration), batch_idx=0)
    return model_side_draws()


def test_draws_depend_on_seed_and_iteration_only():
    hook = HOOKS.build(dict(type='DeterministicRandomStateHook'))
    first = draws_after_hook(hook, 5, 3)
    model_side_draws()  # whatever happened since
    # A new hook, as in a resumed run, at the same iteration.
    resumed = HOOKS.build(dict(type='DeterministicRandomStateHook'))
    assert draws_after_hook(resumed, 5, 3) == first
    assert draws_after_hook(hook, 5, 4) != first
    assert draws_after_hook(hook, 6, 3) != first


def test_iteration_seed_is_pinned():
    # The seed formula is part of the resume contract: a checkpoint written
    # by one version must resume identically in the next. Independently:
    # SeedSequence(run seed, spawn_key=(1, iteration)), first 32-bit word.
    expected_seed = int(
        np.random.SeedSequence(5, spawn_key=(1, 3)).generate_state(1)[0]
    )
    random.seed(expected_seed)
    np.random.seed(expected_seed)
    torch.manual_seed(expected_seed)
    expected = model_side_draws()
    hook = HOOKS.build(dict(type='DeterministicRandomStateHook'))
    assert draws_after_hook(hook, 5, 3) == expected


def test_seeded_sampler_follows_the_runners_seed():
    # As after a resume under randomness.seed=None: the sampler was built
    # with a fresh seed, MMEngine then took the checkpoint's seed.
    sampler = SeededSampler(SeededRange(range(6)), seed=11)
    hook = HOOKS.build(dict(type='DeterministicRandomStateHook'))
    hook.before_train(runner_at(seed=4, iteration=0, sampler=sampler))
    assert sampler.seed == 4
    reference = SeededSampler(SeededRange(range(6)), seed=4)
    assert list(sampler) == list(reference)


def test_another_sampler_gets_a_warning_stating_the_consequence(monkeypatch):
    messages = []
    monkeypatch.setattr(
        deterministic_random_state_hook,
        'print_log',
        lambda message, **kwargs: messages.append((message, kwargs.get('level'))),
    )
    sampler = DefaultSampler(list(range(6)), seed=11)
    hook = HOOKS.build(dict(type='DeterministicRandomStateHook'))
    hook.before_train(runner_at(seed=4, iteration=0, sampler=sampler))
    ((message, level),) = messages
    assert 'DefaultSampler' in message
    assert 'resumed run will not reproduce' in message
    assert level == 30  # logging.WARNING
    assert sampler.seed == 11
