"""ResultPlotsHook sends the plots of a metrics dict to MMEngine's backends."""

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import EpochBasedTrainLoop, Runner
from mmengine.visualization import Visualizer
from mmpretrain.registry import HOOKS, METRICS
from PIL import Image

from clad_mm.visualization import ResultPlotsHook, add_result_plots_hook

BG_CHALLENGE = {
    'bg_challenge/original': 95.0,
    'bg_challenge/only_bg_t': 30.0,
    'bg_challenge/mixed_same': 90.0,
    'bg_challenge/mixed_rand': 70.0,
    'bg_challenge/bg_gap': 20.0,
}
GROUPS = {
    'group/accuracy/overall': 70.0,
    'group/accuracy/group_0': 98.0,
    'group/accuracy/group_1': 34.0,
    'group/num_images/group_0': 200,
    'group/num_images/group_1': 200,
    'group/unweighted_group_mean': 66.0,
    'group/worst_group': 34.0,
    'group/worst_group_index': 1,
}


@pytest.fixture
def visualizer(tmp_path):
    # Instances are kept by name (ManagerMixin): one name per test.
    return Visualizer(
        name=f'result_plots_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path),
    )


def runner_without_training(visualizer):
    """The parts of a Runner the hook reads, for a test without training."""
    return SimpleNamespace(
        visualizer=visualizer,
        cfg=SimpleNamespace(filename='configs/clad/my_model.py'),
        _train_loop=None,
        test_dataloader=SimpleNamespace(
            dataset=SimpleNamespace(metainfo=dict(group_names=['on land', 'on water']))
        ),
        test_evaluator=SimpleNamespace(metrics=[]),
    )


def written(tmp_path):
    # Visualizer puts its backends' files under <save_dir>/vis_data.
    folder = tmp_path / 'vis_data' / 'vis_image'
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_background_challenge_metrics_give_the_split_and_scatter_plots(
    tmp_path, visualizer
):
    hook = HOOKS.build(dict(type='ResultPlotsHook'))
    hook.after_test_epoch(runner_without_training(visualizer), BG_CHALLENGE)

    assert written(tmp_path) == [
        'test_bg_challenge_0.png',
        'test_mixed_same_vs_rand_0.png',
    ]
    with Image.open(tmp_path / 'vis_data/vis_image/test_bg_challenge_0.png') as image:
        assert image.size == (800, 400)


def test_group_metrics_give_the_group_bars(tmp_path, visualizer):
    ResultPlotsHook().after_test_epoch(runner_without_training(visualizer), GROUPS)
    assert written(tmp_path) == ['test_group_accuracy_0.png']


def test_unknown_or_missing_metrics_draw_nothing(tmp_path, visualizer):
    runner = runner_without_training(visualizer)
    hook = ResultPlotsHook()
    hook.after_test_epoch(runner, {'accuracy/top1': 80.0, 'bg_challenge_x/a': 1.0})
    hook.after_test_epoch(runner, {})
    hook.after_test_epoch(runner, None)
    assert written(tmp_path) == []


def test_texture_splits_give_shape_bias_bars_only(tmp_path, visualizer):
    texture = {'bg_challenge/original': 90.0, 'bg_challenge/outline': 40.0}
    ResultPlotsHook().after_test_epoch(runner_without_training(visualizer), texture)
    assert written(tmp_path) == ['test_shape_bias_0.png']


def test_a_retriever_test_gets_its_nearest_images(tmp_path, visualizer):
    from mmpretrain.structures import DataSample

    paths = []
    for index in range(6):
        path = tmp_path / f'photo {index}.png'
        Image.new('RGB', (40, 30), (index * 40, 0, 0)).save(path)
        paths.append(str(path))
    runner = runner_without_training(visualizer)
    runner.test_dataloader.dataset.metainfo['classes'] = ['cat', 'dog', 'owl']
    hook = HOOKS.build(dict(type='ResultPlotsHook', num_retrieval_queries=2))
    hook.before_test_epoch(runner)
    for batch in (range(0, 3), range(3, 6)):
        outputs = []
        for index in batch:
            sample = DataSample(metainfo=dict(img_path=paths[index], bg_draw=-1))
            sample.set_gt_label(index % 3).set_field(
                torch.tensor([1.0, float(index)]), 'embedding'
            )
            outputs.append(sample)
        # A background-replaced copy of the last image: not an example.
        replaced = DataSample(metainfo=dict(img_path=paths[5], bg_draw=0))
        replaced.set_gt_label(2).set_field(torch.tensor([0.0, 1.0]), 'embedding')
        hook.after_test_iter(runner, 0, outputs=[*outputs, replaced])
    hook.after_test_epoch(runner, {'retrieval/clean/MAP@R': 50.0})

    assert 'test_retrieval_examples_0.png' in written(tmp_path)
    assert len(hook._embedded) == 0  # collected again at the next test
    with Image.open(
        tmp_path / 'vis_data/vis_image/test_retrieval_examples_0.png'
    ) as im:
        # 2 query rows of 1 query + 5 matches, 128 px cells.
        assert im.size[0] == 6 * 128 and im.size[1] > 2 * 128


def test_validation_plots_are_numbered_by_epoch(tmp_path, visualizer):
    runner = SimpleNamespace(
        visualizer=visualizer,
        cfg=SimpleNamespace(filename=None),
        # An epoch-based loop (never run): the step is the epoch just ended.
        _train_loop=object.__new__(EpochBasedTrainLoop),
        epoch=3,
        val_dataloader=None,
        val_evaluator=None,
    )
    ResultPlotsHook().after_val_epoch(runner, GROUPS)
    assert written(tmp_path) == ['val_group_accuracy_3.png']


def test_other_ranks_draw_nothing(tmp_path, visualizer, monkeypatch):
    import clad_mm.visualization.result_plots_hook as module

    monkeypatch.setattr(module, 'is_main_process', lambda: False)
    ResultPlotsHook().after_test_epoch(runner_without_training(visualizer), GROUPS)
    assert written(tmp_path) == []


@pytest.mark.parametrize(
    'default_hooks, expected',
    [
        (None, {'result_plots': dict(type='ResultPlotsHook')}),
        (
            dict(checkpoint=dict(type='CheckpointHook', interval=2)),
            {
                'checkpoint': dict(type='CheckpointHook', interval=2),
                'result_plots': dict(type='ResultPlotsHook'),
            },
        ),
        (
            dict(result_plots=dict(type='ResultPlotsHook', model_name='m')),
            {'result_plots': dict(type='ResultPlotsHook', model_name='m')},
        ),
        # None turns the plots off: MMEngine accepts None for its own keys only.
        (dict(result_plots=None), {}),
    ],
)
def test_add_result_plots_hook_keeps_what_the_config_says(default_hooks, expected):
    cfg = Config(dict() if default_hooks is None else dict(default_hooks=default_hooks))
    add_result_plots_hook(cfg)
    assert cfg.default_hooks.to_dict() == expected


class _Model(BaseModel):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return [dict()] * len(inputs)


@METRICS.register_module(force=True)
class _FixedGroupMetric(BaseMetric):
    """Reports the GROUPS figures whatever the predictions."""

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return {key.split('/', 1)[1]: value for key, value in GROUPS.items()}


def test_a_runner_with_the_hook_writes_the_plots_to_its_vis_data(tmp_path):
    runner = Runner(
        model=_Model(),
        work_dir=str(tmp_path),
        test_dataloader=dict(
            dataset=[dict(inputs=np.zeros(1, np.float32))] * 2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate'),
        ),
        test_evaluator=dict(type='_FixedGroupMetric', prefix='group'),
        test_cfg=dict(),
        default_hooks=dict(result_plots=dict(type='ResultPlotsHook')),
        visualizer=dict(
            type='Visualizer',
            name=f'runner_{tmp_path.name}',
            vis_backends=[dict(type='LocalVisBackend')],
        ),
        default_scope='mmpretrain',
    )
    runner.test()
    vis_image = os.path.join(runner.log_dir, 'vis_data', 'vis_image')
    assert os.listdir(vis_image) == ['test_group_accuracy_0.png']
