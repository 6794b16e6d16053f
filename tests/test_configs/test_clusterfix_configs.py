"""The ClusterFix configs (the SynWaterbirds demo, Waterbirds with ResNet-18
and ResNet-50, CelebA with ResNet-18): ERM, ClusterFix and the group-balanced
oracle differ only where they should, follow the paper's recipe, read the
official layouts at real image sizes, and build and train a step."""

import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmpretrain.registry import DATASETS, MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401  (mmpretrain:: bases on setuptools >= 82)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'clusterfix')
VARIANTS = ('erm', 'clusterfix', 'group_balanced')
# family -> (beta, pooled feature channels, training sampler of ERM)
FAMILIES = {
    'efficientnet_lite0_synwaterbirds': (0.01, 1280, 'SeededSampler'),
    'resnet18_waterbirds': (0.01, 512, 'SeededSampler'),
    'resnet50_waterbirds': (0.01, 2048, 'SeededSampler'),
    'resnet18_celeba': (0.5, 512, 'BalancedSampler'),
}
PAPER_FAMILIES = [family for family in FAMILIES if 'synwaterbirds' not in family]


def config(family, variant):
    return Config.fromfile(osp.join(CONFIG_DIR, f'{family}_{variant}.py'))


def test_every_family_has_the_four_variants():
    for family in FAMILIES:
        for variant in (*VARIANTS, 'group_dro'):
            assert osp.isfile(osp.join(CONFIG_DIR, f'{family}_{variant}.py'))


@pytest.mark.parametrize('family', FAMILIES)
def test_variants_differ_only_in_model_sampler_and_pipeline(family):
    beta, feat_channels, erm_sampler = FAMILIES[family]
    erm, clusterfix, oracle = (config(family, v).to_dict() for v in VARIANTS)
    assert erm['train_dataloader']['sampler']['type'] == erm_sampler
    if erm_sampler == 'BalancedSampler':  # CelebA: class-balanced batches
        assert erm['train_dataloader']['sampler']['key'] == 'gt_label'
    assert (
        clusterfix['train_dataloader']['sampler'] == erm['train_dataloader']['sampler']
    )
    assert oracle['train_dataloader']['sampler'] == dict(
        type='BalancedSampler', key='group'
    )
    assert clusterfix['model']['type'] == 'ClusterFixClassifier'
    assert clusterfix['model']['beta'] == beta
    assert clusterfix['model']['feat_channels'] == feat_channels
    pipeline = clusterfix['train_dataloader']['dataset']['pipeline']
    assert [step['type'] for step in pipeline[:2]] == [
        'LoadImageFromFile',
        'LoadPseudoLabel',
    ]
    # The model and the pipeline read the same pseudo-label file.
    assert pipeline[1]['pseudo_labels'] == clusterfix['model']['pseudo_labels']
    assert pipeline[-1]['algorithm_keys'] == ('pseudo_label',)
    # Apart from the pseudo-label steps, ClusterFix augments as ERM does.
    erm_pipeline = erm['train_dataloader']['dataset']['pipeline']
    assert pipeline[0] == erm_pipeline[0] and pipeline[2:-1] == erm_pipeline[1:-1]
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
        assert cfg['param_scheduler']['type'] == 'CosineAnnealingLR'
        # Groups reach the evaluator only: training never packs them.
        packed = cfg['train_dataloader']['dataset']['pipeline'][-1]
        assert 'group' not in packed.get('meta_keys', ())
        assert 'group' not in packed.get('algorithm_keys', ())
        assert 'group' in cfg['test_dataloader']['dataset']['pipeline'][-1]['meta_keys']
    for name in ('model', 'data_preprocessor', 'param_scheduler', 'train_cfg'):
        assert oracle[name] == erm[name]


@pytest.mark.parametrize('family', FAMILIES)
def test_group_dro_is_erm_with_the_robust_loss_and_group_labels(family):
    erm, dro = (config(family, v).to_dict() for v in ('erm', 'group_dro'))
    assert dro['model'] == {
        **erm['model'],
        'type': 'GroupDROClassifier',
        'num_groups': 4,
        'step_size': 0.01,
    }
    pipeline = dro['train_dataloader']['dataset']['pipeline']
    erm_pipeline = erm['train_dataloader']['dataset']['pipeline']
    assert pipeline[:-1] == erm_pipeline[:-1]
    assert pipeline[-1] == dict(type='PackInputs', algorithm_keys=('group',))
    assert dro['train_dataloader']['sampler'] == erm['train_dataloader']['sampler']
    for name in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_evaluator'):
        assert dro[name] == erm[name]


@pytest.mark.parametrize('family', PAPER_FAMILIES)
def test_paper_configs_follow_the_clusterfix_recipe(family):
    cfg = config(family, 'erm')
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.train_cfg.max_epochs == 100 and cfg.param_scheduler.T_max == 100
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop == dict(
        type='RandomResizedCrop', scale=224, crop_ratio_range=(0.7, 1.0)
    )
    assert cfg.train_dataloader.dataset.pipeline[2].type == 'RandomFlip'
    backbone = cfg.model.backbone
    assert backbone.depth == int(family[len('resnet') :].split('_')[0])
    assert backbone.init_cfg.type == 'Pretrained'
    assert 'in1k' in backbone.init_cfg.checkpoint


def write_image(path, height, width):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)
    cv2.imwrite(str(path), image)


def write_waterbirds(root):
    """Four images, one per group, at Waterbirds-like sizes."""
    lines = ['img_id,img_filename,y,split,place,place_filename']
    sizes = [(375, 500), (500, 333), (281, 500), (500, 500)]
    for index, (height, width) in enumerate(sizes):
        name = f'{index:03d}.Some bird/Bird_{index}.jpg'
        write_image(root / name, height, width)
        y, place = divmod(index, 2)
        lines.append(f'{index},{name},{y},0,{place},/p/place.jpg')
    (root / 'metadata.csv').write_text('\n'.join(lines) + '\n')


def write_celeba(root):
    """Four aligned faces (178 x 218), the CSV copies' layout."""
    names = ['Blond_Hair', 'Male']
    lines = ['image_id,' + ','.join(names)]
    for index in range(4):
        name = f'{index + 1:06d}.jpg'
        write_image(root / 'img_align_celeba' / name, 218, 178)
        blond, male = divmod(index, 2)
        lines.append(f'{name},{2 * blond - 1},{2 * male - 1}')
    (root / 'list_attr_celeba.csv').write_text('\n'.join(lines) + '\n')
    partitions = [f'{index + 1:06d}.jpg,0' for index in range(4)]
    (root / 'list_eval_partition.csv').write_text(
        'image_id,partition\n' + '\n'.join(partitions) + '\n'
    )


def write_official_layout(family, data_root):
    """The family's data set in miniature, in its official layout."""
    if 'waterbirds' in family:
        write_waterbirds(data_root)
    else:
        write_celeba(data_root)
    return data_root


def train_step(cfg, samples):
    """The config's model (no pretrained download) and its losses on the
    packed samples, through its data preprocessor."""
    cfg.model.backbone.init_cfg = None
    cfg.model['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(
        dict(
            inputs=[s['inputs'] for s in samples],
            data_samples=[s['data_samples'] for s in samples],
        ),
        training=True,
    )
    return model, model(**batch, mode='loss')


def write_pseudo_labels(path, img_paths, labels, k=8):
    """Cluster 0 of each sample's class; every other cluster empty."""
    sizes = [0] * (2 * k)
    for label in labels:
        sizes[k * label] += 1
    content = {
        'format': 'clad_mm.pseudo_labels',
        'version': 1,
        'clusters_per_class': k,
        'num_classes': 2,
        'splits': {'train': {p: k * label for p, label in zip(img_paths, labels)}},
        'cluster_sizes': sizes,
    }
    path.write_text(json.dumps(content))


@pytest.mark.parametrize('family', PAPER_FAMILIES)
def test_clusterfix_reads_the_official_layout_and_trains_a_step(family, tmp_path):
    data_root = write_official_layout(family, tmp_path / 'data')
    cfg = config(family, 'clusterfix')
    train = cfg.train_dataloader.dataset
    train.data_root = str(data_root)
    labelled = DATASETS.build({**train, 'pipeline': []})
    img_paths = [labelled.get_data_info(i)['img_path'] for i in range(4)]
    labels = [int(labelled.get_data_info(i)['gt_label']) for i in range(4)]
    pseudo = tmp_path / 'pseudo.json'
    write_pseudo_labels(pseudo, img_paths, labels)
    train.pipeline[1].pseudo_labels = str(pseudo)
    cfg.model.pseudo_labels = str(pseudo)
    dataset = DATASETS.build(train)
    samples = [dataset[i] for i in range(4)]
    assert all(s['inputs'].shape == (3, 224, 224) for s in samples)
    # The test pipeline gives every image the same 224 x 224 input.
    test_pipeline = Compose(
        [TRANSFORMS.build(step) for step in cfg.test_dataloader.dataset.pipeline]
    )
    for path, label in zip(img_paths, labels):
        packed = test_pipeline(dict(img_path=path, gt_label=label, group=0))
        assert packed['inputs'].shape == (3, 224, 224)

    model, losses = train_step(cfg, samples)
    assert torch.isfinite(losses['loss'])
    assert model.cluster_state.seen.tolist() == [True] * 4


def test_clusterfix_demo_config_builds_and_trains_a_step(tmp_path):
    pseudo = tmp_path / 'pseudo.json'
    write_pseudo_labels(pseudo, ['a.jpg', 'b.jpg'], [0, 1])
    cfg = config('efficientnet_lite0_synwaterbirds', 'clusterfix')
    cfg.model.pseudo_labels = str(pseudo)
    cfg.model.backbone.init_cfg = None  # no converted checkpoint needed
    cfg.model['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(cfg.model)
    batch = []
    for index, (label, cluster) in enumerate([(0, 0), (1, 8)]):
        sample = DataSample(metainfo=dict(sample_idx=index)).set_gt_label(label)
        sample.set_field(cluster, 'pseudo_label')
        batch.append(sample)
    losses = model(torch.rand(2, 3, 64, 64), batch, mode='loss')
    assert set(losses) == {'loss', 'loss_pseudo', 'cluster_weight_max'}
    assert model.cluster_state.seen.tolist() == [True, True]


@pytest.mark.parametrize('family', PAPER_FAMILIES)
def test_group_dro_reads_the_groups_and_trains_a_step(family, tmp_path):
    data_root = write_official_layout(family, tmp_path / 'data')
    cfg = config(family, 'group_dro')
    cfg.train_dataloader.dataset.data_root = str(data_root)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    samples = [dataset[i] for i in range(4)]
    assert [s['data_samples'].group for s in samples] == [0, 1, 2, 3]
    model, losses = train_step(cfg, samples)
    assert torch.isfinite(losses['loss'])
    assert not torch.equal(
        model.group_state.weights, torch.full((4,), 0.25, dtype=torch.float64)
    )
