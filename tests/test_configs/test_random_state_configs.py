"""Every training config makes its random state a function of counters
(clad_mm's seeded samplers + DeterministicRandomStateHook), so
--resume is exact."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config

import clad_mm  # noqa: F401  (mmpretrain:: bases on setuptools >= 82)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Parsed once: file name -> config, for every config that trains.
TRAINING_CONFIGS = {
    osp.basename(path): cfg
    for path in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))
    if 'train_dataloader' in (cfg := Config.fromfile(path))
}


def test_training_configs_are_found():
    names = set(TRAINING_CONFIGS)
    assert {'resnet18_synbg_clad.py', 'resnet50_in9_sclad.py'} <= names
    assert 'resnet50_in1k_bgchallenge.py' not in names  # test only


@pytest.mark.parametrize('name', TRAINING_CONFIGS)
def test_training_config_seeds_samples_and_iterations(name):
    cfg = TRAINING_CONFIGS[name]
    assert cfg.train_dataloader.sampler.type in (
        'SeededSampler',
        'MPerClassSampler',
        'BalancedSampler',
    )
    # A config that sets custom_hooks replaces its bases' list: it must keep
    # the hook, once.
    hook_types = [hook['type'] for hook in cfg.get('custom_hooks', [])]
    assert hook_types.count('DeterministicRandomStateHook') == 1
    assert cfg.randomness.seed is not None
