"""tools/test.py refuses bad input with errors that name it."""

import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmpretrain.registry import MODELS
from tiny_data import make_tiny_synbg

import clad_mm  # noqa: F401  (registers the components)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IN1K_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet50_in1k_bgchallenge.py')
TINY_BACKBONE = (
    'model = dict(backbone=dict(depth=18, stem_channels=8, base_channels=8),\n'
    '             head=dict(in_channels=64))\n'
)


def run_test_tool(*args):
    return subprocess.run(
        [sys.executable, 'tools/test.py', *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def build_model(num_classes, stem_channels=8):
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet',
                depth=18,
                stem_channels=stem_channels,
                base_channels=8,
            ),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=64),
        )
    )


def save_checkpoint(path, model, prefix=''):
    state_dict = {prefix + key: value for key, value in model.state_dict().items()}
    torch.save(dict(state_dict=state_dict, meta=dict()), str(path))
    return str(path)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny SynBG test set, a tiny 1000-class config, a 9-class checkpoint."""
    root = tmp_path_factory.mktemp('errors')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root)
    config = root / 'tiny_in1k.py'
    config.write_text(
        f'_base_ = [{IN1K_CONFIG!r}]\n'
        + TINY_BACKBONE
        + 'test_dataloader = dict(num_workers=0,\n'
        f'    dataset=dict(data_root={data_root + "/test_set"!r}))\n'
    )
    nine_class = save_checkpoint(root / 'nine_class.pth', build_model(9))
    return str(config), nine_class, data_root + '/test_set'


def test_checkpoint_with_other_class_count_is_refused(tiny, tmp_path):
    config, nine_class, _ = tiny

    completed = run_test_tool(config, nine_class, '--work-dir', str(tmp_path))

    assert completed.returncode == 1
    assert 'Traceback' not in completed.stderr
    assert (
        f'error: Checkpoint {nine_class} does not fit the model of config {config}: '
        'it has 9 classes (head.fc.weight is (9, 64)) but the config has 1000 '
        '(model.head.num_classes; head.fc.weight is (1000, 64))'
    ) in completed.stderr
    # Nothing was evaluated: MMEngine alone would warn and test a random head.
    assert not list(tmp_path.glob('*/bg_challenge.json'))


def test_split_missing_from_the_test_root_is_named(tiny, tmp_path):
    config, _, test_root = tiny
    checkpoint = save_checkpoint(tmp_path / 'in1k.pth', build_model(1000))

    completed = run_test_tool(
        config,
        checkpoint,
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        'test_dataloader.dataset.splits=[original,stylized]',
    )

    assert completed.returncode != 0
    assert (
        f"Split 'stylized' is not in the test set {test_root}: "
        f'{test_root}/stylized/val does not exist'
    ) in completed.stderr
    assert "splits found there: ['original', 'only_fg'," in completed.stderr
