"""The retrieval configs of configs/bgaugment/: 3 data sets x 5 losses x
{base, BGAugment} with the authors' loss values, and the SynSOP demo."""

import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import clad_mm  # noqa: F401  (mmpretrain:: bases on setuptools >= 82)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'bgaugment')
DATASETS = ('cub', 'cars196', 'sop')
LOSSES = ('contrastive', 'triplet', 'multi_similarity', 'arcface', 'normalized_softmax')
PROXY_LOSSES = ('arcface', 'normalized_softmax')
# Training classes left after the validation carve-out, as the authors'
# proxy configs have them: CUB 100 - 25, Cars196 98 - 24, SOP 11 318 - 2 829.
TRAIN_CLASSES = {'cub': 75, 'cars196': 74, 'sop': 8489, 'synsop': 48}
# The authors' tuned values (LSX-UniWue/background-bias-in-dml, configs/model/
# loss_func/base_loss_func), rounded to 4 significant digits, with the loss
# learning rate of the proxy losses.
AUTHORS_VALUES = {
    ('cub', 'arcface'): (dict(margin=23.23, scale=100.0), 0.005138),
    ('cars196', 'multi_similarity'): (dict(alpha=14.36, beta=75.83, base=0.6616), None),
    ('sop', 'normalized_softmax'): (dict(temperature=0.06306), 0.0005468),
    ('sop', 'contrastive'): (dict(pos_margin=0.2850, neg_margin=0.5130), None),
    ('cub', 'triplet'): (dict(margin=0.0961), None),
}


def config(name):
    return Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))


def test_every_data_set_loss_and_variant_has_a_config():
    names = {osp.basename(p)[:-3] for p in glob.glob(osp.join(CONFIG_DIR, '*.py'))}
    expected = {
        f'{trunk}_{data}_{loss}{variant}'
        for trunk, datas in (
            ('resnet50', DATASETS),
            ('efficientnet_lite0', ('synsop',)),
        )
        for data in datas
        for loss in LOSSES
        for variant in ('', '_bgaugment')
    }
    assert names == expected


@pytest.mark.parametrize(
    'name',
    [f'resnet50_{d}_{loss}' for d in DATASETS for loss in LOSSES]
    + [f'efficientnet_lite0_synsop_{loss}' for loss in LOSSES],
)
def test_base_config_builds_a_128d_retriever_with_the_right_sampling(name):
    cfg = config(name)
    data, loss = next(
        (d, lo) for d in (*DATASETS, 'synsop') for lo in LOSSES if f'_{d}_{lo}' in name
    )
    assert cfg.train_dataloader.sampler.type == 'MPerClassSampler'
    assert (
        cfg.train_dataloader.sampler.batch_size == cfg.train_dataloader.batch_size == 32
    )
    assert cfg.train_dataloader.sampler.m == (1 if loss in PROXY_LOSSES else 4)
    model_cfg = cfg.model
    # No download in a test: the trunk starts random.
    model_cfg.image_encoder[0].pop('init_cfg')
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    with torch.no_grad():
        embeddings = model.eval()(torch.rand(2, 3, 64, 64), mode='tensor')
    assert embeddings.shape == (2, 128)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2))
    assert model.frozen_bn
    if loss in PROXY_LOSSES:
        assert model.head.num_classes == TRAIN_CLASSES[data]
        assert 'head.loss_module' in cfg.optim_wrapper.paramwise_cfg.custom_keys
    if data != 'synsop':
        train_set = cfg.train_dataloader.dataset
        assert train_set.val_classes == cfg.val_dataloader.dataset.val_classes
        assert cfg.test_dataloader.dataset.background_draws == 5
        assert cfg.optim_wrapper.optimizer == dict(
            type='RMSprop', lr=1e-6, momentum=0.9, weight_decay=1e-4
        )


@pytest.mark.parametrize('data, loss', sorted(AUTHORS_VALUES))
def test_loss_values_are_the_authors(data, loss):
    cfg = config(f'resnet50_{data}_{loss}')
    values, loss_lr = AUTHORS_VALUES[(data, loss)]
    for key, value in values.items():
        assert math.isclose(cfg.model.head.loss[key], value, rel_tol=1e-3), key
    if loss_lr is not None:
        lr_mult = cfg.optim_wrapper.paramwise_cfg.custom_keys[
            'head.loss_module'
        ].lr_mult
        assert math.isclose(
            cfg.optim_wrapper.optimizer.lr * lr_mult, loss_lr, rel_tol=1e-3
        )


@pytest.mark.parametrize(
    'stem',
    [f'resnet50_{d}_{loss}' for d in DATASETS for loss in LOSSES]
    + [f'efficientnet_lite0_synsop_{loss}' for loss in LOSSES],
)
def test_bgaugment_variant_changes_only_training_images_and_model_selection(stem):
    base, bgaugment = config(stem).to_dict(), config(f'{stem}_bgaugment').to_dict()
    base_pipeline = base['train_dataloader']['dataset'].pop('pipeline')
    pipeline = bgaugment['train_dataloader']['dataset'].pop('pipeline')
    types = [step['type'] for step in pipeline]
    assert types[:3] == ['LoadImageFromFile', 'LoadForegroundMatte', 'BGAugment']
    assert pipeline[3:] == base_pipeline[1:]
    assert pipeline[2]['background_root'] == base['train_backgrounds']
    assert base['train_backgrounds'] != base['test_backgrounds']
    if 'val_dataloader' in base and base['val_dataloader']:
        assert (
            base['default_hooks']['checkpoint']['save_best'] == 'retrieval/clean/MAP@R'
        )
        selection = 'retrieval/replaced/MAP@R'
        assert bgaugment['default_hooks']['checkpoint']['save_best'] == selection
        assert bgaugment['custom_hooks'][1]['monitor'] == selection
        for cfg in (base, bgaugment):
            (
                cfg.pop('default_hooks'),
                cfg.pop('custom_hooks'),
                cfg.pop('selection_metric'),
            )
    # Everything else (model, loss, test sets, schedule) is the same.
    base.pop('filename', None), bgaugment.pop('filename', None)
    assert base == bgaugment


def test_test_sets_composite_on_the_disjoint_test_pool():
    cfg = config('resnet50_cub_arcface')
    test_steps = {step['type']: step for step in cfg.test_dataloader.dataset.pipeline}
    val_steps = {step['type']: step for step in cfg.val_dataloader.dataset.pipeline}
    # Only the replaced copies load a matte and composite; clean images pass.
    for steps, pool in (
        (test_steps, cfg.test_backgrounds),
        (val_steps, cfg.train_backgrounds),
    ):
        inner = steps['ApplyToReplacedCopies']['transforms']
        assert [step['type'] for step in inner] == ['LoadForegroundMatte', 'BGAugment']
        assert inner[1]['background_root'] == pool
        assert 'BGAugment' not in steps
    assert 'bg_draw' in test_steps['PackInputs']['meta_keys']
    assert test_steps['CenterCrop']['crop_size'] == 227
    assert test_steps['ResizeEdge'] == dict(type='ResizeEdge', scale=256, edge='short')
