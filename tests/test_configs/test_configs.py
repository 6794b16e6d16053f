"""Every shipped config parses, builds its model and reads its data roots."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import clad_mm  # noqa: F401

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))


def test_configs_are_found():
    names = {osp.relpath(path, REPO_ROOT) for path in CONFIGS}
    assert 'configs/clad/resnet18_synbg_baseline.py' in names
    assert 'configs/clad/resnet50_in9_baseline.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds_its_classifier(path):
    # Configs named *_in1k_* evaluate ImageNet-1k models; all others are IN-9 / SynBG.
    num_classes = 1000 if '_in1k_' in osp.basename(path) else 9
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['clad_mm'], allow_failed_imports=False)
    model = MODELS.build(cfg.model)
    size = 64 if 'synbg' in path else 224
    logits = model(torch.rand(2, 3, size, size), mode='tensor')
    assert logits.shape == (2, num_classes)


@pytest.mark.parametrize(
    'path, train_root, test_root',
    [
        (
            'configs/clad/resnet18_synbg_baseline.py',
            'data/synbg',
            'data/synbg/test_set',
        ),
        ('configs/clad/resnet50_in9_baseline.py', 'data/in9', 'data/bg_challenge'),
    ],
)
def test_data_roots_are_relative_and_overridable(path, train_root, test_root):
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    assert cfg.train_dataloader.dataset.data_root == train_root
    assert cfg.test_dataloader.dataset.data_root == test_root
    cfg.merge_from_dict({'test_dataloader.dataset.data_root': '/elsewhere'})
    assert cfg.test_dataloader.dataset.data_root == '/elsewhere'


def test_in9_baseline_follows_the_paper_recipe():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/clad/resnet50_in9_baseline.py'))
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3, weight_decay=0)
    assert cfg.param_scheduler.milestones == [20]
    assert cfg.train_cfg.max_epochs == 60
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.randomness.seed == 42
