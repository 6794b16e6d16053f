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


def clusterfix_case(tmp_path, file_sizes, pipeline_file=None):
    """A two-image group CSV set whose pipeline reads ``pipeline_file`` (by
    default the model's file, made for ``sum(file_sizes)`` images)."""
    for name in ('a.jpg', 'b.jpg'):
        assert cv2.imwrite(str(tmp_path / name), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / 'groups.csv').write_text('path,label,group\na.jpg,0,0\nb.jpg,1,3\n')
    model_file = tmp_path / 'model_pseudo.json'
    model_file.write_text(
        '{"format": "clad_mm.pseudo_labels", "version": 1, '
        '"clusters_per_class": 2, "num_classes": 2, "splits": {"train": '
        f'{{"{tmp_path / "a.jpg"}": 0, "{tmp_path / "b.jpg"}": 2}}}}, '
        f'"cluster_sizes": {file_sizes}}}'
    )
    dataset = DATASETS.build(
        dict(
            type='GroupCSVDataset',
            data_root=str(tmp_path),
            ann_file='groups.csv',
            pipeline=[
                dict(
                    type='LoadPseudoLabel',
                    pseudo_labels=str(pipeline_file or model_file),
                )
            ],
        )
    )
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT,
            'configs/clusterfix/efficientnet_lite0_synwaterbirds_clusterfix.py',
        )
    )
    cfg.model.backbone.init_cfg = None
    cfg.model.pseudo_labels = str(model_file)
    runner = runner_with(MODELS.build(cfg.model), dataset, 'train_loop')
    return runner, model_file


def test_clusterfix_pipeline_and_model_must_read_one_pseudo_label_file(tmp_path):
    other = tmp_path / 'other.json'
    runner, model_file = clusterfix_case(tmp_path, [1, 0, 1, 0])
    other.write_text(model_file.read_text())
    runner, model_file = clusterfix_case(tmp_path, [1, 0, 1, 0], other)
    with pytest.raises(UserError) as raised:
        RunChecksHook().before_train(runner)
    assert str(raised.value) == (
        f"model.pseudo_labels={model_file} but the training pipeline's "
        f'LoadPseudoLabel reads {other} in {CONFIG}: both must name the same file'
    )


def test_clusterfix_pseudo_labels_must_fit_the_training_set(tmp_path):
    runner, model_file = clusterfix_case(tmp_path, [1, 1, 1, 0])
    with pytest.raises(UserError) as raised:
        RunChecksHook().before_train(runner)
    assert str(raised.value) == (
        f'the training set of {tmp_path} has 2 images but the pseudo-label file '
        f'{model_file} was made for 3: make the pseudo-labels from this training '
        'set (tools/analysis/make_pseudo_labels.py)'
    )
    matching, _ = clusterfix_case(tmp_path, [1, 0, 1, 0])
    RunChecksHook().before_train(matching)  # one file, two images: accepted
