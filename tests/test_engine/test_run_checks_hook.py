"""RunChecksHook: labels against the model's classes, once, before the run."""

import os
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.registry import DATASETS, HOOKS, MODELS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.engine.hooks import RunChecksHook
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')


def write_test_root(root, num_classes):
    """A one-split test root with one image per class folder."""
    for label in range(num_classes):
        folder = root / 'original' / 'val' / f'{label:02d}_c{label}'
        os.makedirs(folder)
        assert cv2.imwrite(str(folder / 'x.JPEG'), np.zeros((4, 4, 3), np.uint8))
    return str(root)


def build_model(head_classes=9, preprocessor_classes=None):
    model = Config.fromfile(CONFIG).model
    model.head.num_classes = head_classes
    model.data_preprocessor = dict(
        type='ClsDataPreprocessor', num_classes=preprocessor_classes
    )
    return MODELS.build(model)


def runner_with(model, dataset, loop='test_loop'):
    """The parts of a Runner that the hook reads, around real components."""
    loop_with_data = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
    return SimpleNamespace(
        model=model,
        cfg=SimpleNamespace(filename=CONFIG),
        _val_loop=None,
        **{loop: loop_with_data},
    )


def dataset_of(root):
    return DATASETS.build(dict(type='BGChallengeTestDataset', data_root=root))


@pytest.mark.parametrize('num_folders', [10, 12])
def test_more_class_folders_than_the_head_is_refused(tmp_path, num_folders):
    root = write_test_root(tmp_path, num_folders)
    runner = runner_with(build_model(head_classes=9), dataset_of(root))
    with pytest.raises(UserError) as raised:
        RunChecksHook().before_test(runner)
    assert str(raised.value) == (
        f'{root} holds {num_folders} classes (class folders) but '
        f'model.head.num_classes=9 in {CONFIG}: set '
        f'model.head.num_classes={num_folders} (e.g. with --cfg-options) or use '
        'data with 9 classes'
    )


def test_head_below_the_labels_is_refused_before_training(tmp_path):
    root = write_test_root(tmp_path, 9)
    runner = runner_with(build_model(head_classes=4), dataset_of(root), 'train_loop')
    with pytest.raises(
        UserError, match=r'holds 9 classes .* model\.head\.num_classes=4 '
    ):
        RunChecksHook().before_train(runner)


def test_data_preprocessor_classes_are_checked_too(tmp_path):
    root = write_test_root(tmp_path, 9)
    model = build_model(head_classes=9, preprocessor_classes=5)
    with pytest.raises(UserError, match=r'model\.data_preprocessor\.num_classes=5'):
        RunChecksHook().before_test(runner_with(model, dataset_of(root)))


def test_fitting_data_passes_and_fewer_training_classes_warn(tmp_path, logged_warnings):
    fitting = write_test_root(tmp_path / 'nine', 9)
    RunChecksHook().before_train(
        runner_with(build_model(9, 9), dataset_of(fitting), 'train_loop')
    )
    assert logged_warnings == []

    fewer = write_test_root(tmp_path / 'seven', 7)
    RunChecksHook().before_train(
        runner_with(build_model(9), dataset_of(fewer), 'train_loop')
    )
    (message,) = logged_warnings
    assert message.startswith(f'{fewer} holds 7 classes')
    assert 'model.head.num_classes=9' in message and 'never trained' in message
    # A test set may hold fewer classes than the model (e.g. IN-9 under a
    # 1000-class head): no warning.
    RunChecksHook().before_test(runner_with(build_model(9), dataset_of(fewer)))
    assert len(logged_warnings) == 1


def test_the_tools_add_the_hook_once(monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO_ROOT, 'tools'))
    from tool_utils import add_run_checks_hook

    cfg = Config.fromfile(CONFIG)
    add_run_checks_hook(cfg)
    add_run_checks_hook(cfg)
    hooks = [hook['type'] for hook in cfg.custom_hooks]
    assert hooks.count('RunChecksHook') == 1
    assert isinstance(HOOKS.build(dict(type='RunChecksHook')), RunChecksHook)
