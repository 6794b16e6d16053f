"""The ClusterFix demo configs: ERM, ClusterFix and the group-balanced oracle
differ only where they should, and each builds and trains a step."""

import json
import os.path as osp

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401  (mmpretrain:: bases on setuptools >= 82)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'clusterfix')


def config(name):
    return Config.fromfile(
        osp.join(CONFIG_DIR, f'efficientnet_lite0_synwaterbirds_{name}.py')
    )


def test_variants_differ_only_in_model_sampler_and_pipeline():
    erm = config('erm').to_dict()
    clusterfix = config('clusterfix').to_dict()
    oracle = config('group_balanced').to_dict()
    assert oracle['train_dataloader']['sampler'] == dict(
        type='BalancedSampler', key='group'
    )
    assert clusterfix['model']['type'] == 'ClusterFixClassifier'
    assert (
        clusterfix['model']['beta'] == 0.01
        and clusterfix['model']['feat_channels'] == 1280
    )
    steps = [
        step['type'] for step in clusterfix['train_dataloader']['dataset']['pipeline']
    ]
    assert steps[:2] == ['LoadImageFromFile', 'LoadPseudoLabel']
    assert clusterfix['train_dataloader']['dataset']['pipeline'][-1][
        'algorithm_keys'
    ] == ('pseudo_label',)
    for cfg in (erm, clusterfix, oracle):
        assert cfg['val_evaluator'] == dict(type='GroupAccuracyMetric')
        assert cfg['default_hooks']['checkpoint']['save_best'] == [
            'group/worst_group',
            'group/unweighted_group_mean',
        ]
        assert cfg['default_hooks']['checkpoint']['rule'] == 'greater'
        assert cfg['optim_wrapper']['optimizer'] == dict(
            type='Adam', lr=1e-4, weight_decay=1e-2
        )
    # Groups reach the evaluator only: the training pipeline never packs them.
    for cfg in (erm, clusterfix, oracle):
        packed = cfg['train_dataloader']['dataset']['pipeline'][-1]
        assert 'group' not in packed.get('meta_keys', ()) and 'group' not in packed.get(
            'algorithm_keys', ()
        )


def test_clusterfix_config_builds_and_trains_a_step(tmp_path):
    pseudo = tmp_path / 'pseudo.json'
    pseudo.write_text(
        json.dumps(
            {
                'format': 'clad_mm.pseudo_labels',
                'version': 1,
                'clusters_per_class': 8,
                'num_classes': 2,
                'splits': {'train': {'a.jpg': 0, 'b.jpg': 9}},
                'cluster_sizes': [1] + [0] * 8 + [1] + [0] * 6,
            }
        )
    )
    cfg = config('clusterfix')
    cfg.model.pseudo_labels = str(pseudo)
    cfg.model.backbone.init_cfg = None  # no converted checkpoint needed
    cfg.model['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(cfg.model)
    batch = []
    for index, (label, cluster) in enumerate([(0, 0), (1, 9)]):
        sample = DataSample(metainfo=dict(sample_idx=index)).set_gt_label(label)
        sample.set_field(cluster, 'pseudo_label')
        batch.append(sample)
    losses = model(torch.rand(2, 3, 64, 64), batch, mode='loss')
    assert set(losses) == {'loss', 'loss_pseudo', 'cluster_weight_max'}
    assert model.cluster_state.seen.tolist() == [True, True]
