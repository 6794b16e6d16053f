"""Every shipped config parses, builds its model and reads its data roots; the
IN-9 recipes: test images as released, the paper's augmentation and CLAD terms."""

import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The Background Challenge classifier configs (configs/bgaugment/ and
#: configs/clusterfix/ are tested in test_bgaugment_configs.py and
#: test_clusterfix_configs.py).
CONFIGS = sorted(
    path
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
    if osp.basename(osp.dirname(path)) not in ('bgaugment', 'clusterfix')
)


#: The backbone zoo's configs (configs/clad/<backbone>_in9_*.py) are built,
#: trained one step at 64 px and run at 224 px in test_backbone_zoo.py.
ZOO_BACKBONES = (
    'vit_small_p16',
    'swin_tiny',
    'convnext_tiny',
    'efficientnet_b0',
    'mobilenet_v3_large',
)
BUILT_CONFIGS = [
    path
    for path in CONFIGS
    if not osp.basename(path).startswith(tuple(f'{b}_in9_' for b in ZOO_BACKBONES))
]


def test_configs_are_found():
    names = {osp.relpath(path, REPO_ROOT) for path in CONFIGS}
    assert 'configs/clad/resnet18_synbg_baseline.py' in names
    assert 'configs/clad/resnet50_in9_baseline.py' in names


@pytest.mark.parametrize('path', BUILT_CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds_its_classifier(path):
    # Configs named *_in1k* are ImageNet-1k models; all others are IN-9 / SynBG.
    num_classes = 1000 if '_in1k' in osp.basename(path) else 9
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


@pytest.mark.parametrize(
    'name', ['resnet50_in9_baseline.py', 'efficientnet_lite0_in9_baseline.py']
)
def test_in9_baseline_follows_the_paper_recipe(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/clad', name))
    if name.startswith('resnet50'):
        assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3, weight_decay=0)
    assert cfg.param_scheduler.milestones == [20]
    assert cfg.train_cfg.max_epochs == 60
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.randomness.seed == 42


IN9_CONFIGS = [path for path in CONFIGS if '_in9_' in osp.basename(path)]
SYNBG_CONFIGS = [path for path in CONFIGS if '_synbg' in osp.basename(path)]
#: Configs whose test sets are the Background Challenge's 224 px images (the
#: plain ImageNet-1k model of configs/efficientnet_lite/ resizes and crops).
CONFIGS_224 = [
    path
    for path in CONFIGS
    if path not in SYNBG_CONFIGS
    and osp.basename(path) not in ('efficientnet_lite0_in1k.py', 'resnet18_in1k.py')
]
#: Configs that fine-tune the ImageNet-1k EfficientNet-Lite0.
LITE0_TRAINING_CONFIGS = [
    path
    for path in CONFIGS
    if osp.basename(path).startswith('efficientnet_lite0_')
    and ('_synbg_' in path or '_in9_' in path)
]
#: CLAD's training augmentation on ImageNet-9.
PAPER_AUGMENTATION = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
]


@pytest.mark.parametrize('path', CONFIGS_224, ids=lambda p: osp.basename(p))
def test_224_px_test_images_reach_the_model_unchanged(path, tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (224, 224, 3), np.uint8)
    image_path = str(tmp_path / 'image.png')  # lossless
    cv2.imwrite(image_path, image)
    cfg = Config.fromfile(path)
    loaders = [cfg.test_dataloader] + (
        [cfg.val_dataloader] if 'val_dataloader' in cfg else []
    )
    for loader in loaders:
        pipeline = Compose([TRANSFORMS.build(t) for t in loader.dataset.pipeline])
        packed = pipeline(dict(img_path=image_path, split='original'))
        # PackInputs gives CHW in the loaded (BGR) order, before normalisation.
        np.testing.assert_array_equal(
            packed['inputs'].numpy(), image.transpose(2, 0, 1)
        )


def _train_augmentations(pipeline):
    """Each view's augmentation of a training pipeline, as config dicts."""
    views = []
    for transform in pipeline:
        if transform['type'] == 'TwoViewPipeline':
            assert transform.get('positive_pipeline') is None  # same for both
            views += [transform['anchor_pipeline']] * 2
        elif transform['type'] == 'MultiView':
            assert transform['num_views'] == 2 and len(transform['transforms']) == 1
            views += [transform['transforms'][0]] * 2
    if not views:
        # One view; a KeyMapper's transforms augment another key (Base (MR)
        # on SynBG: the composite).
        loaded = []
        for transform in pipeline:
            if transform['type'] == 'KeyMapper':
                loaded += transform['transforms']
            elif transform['type'] not in NOT_AUGMENTATIONS:
                loaded.append(transform)
        views = [loaded]
    return views


#: Transforms of a one-view training pipeline that load or composite.
NOT_AUGMENTATIONS = (
    'LoadImageFromFile',
    'LoadForegroundMask',
    'BackgroundSwap',
    'PackInputs',
)


@pytest.mark.parametrize('path', IN9_CONFIGS, ids=lambda p: osp.basename(p))
def test_in9_training_uses_the_papers_augmentation_on_every_view(path):
    cfg = Config.fromfile(path)
    for augmentation in _train_augmentations(cfg.train_dataloader.dataset.pipeline):
        assert [dict(t) for t in augmentation] == PAPER_AUGMENTATION


@pytest.mark.parametrize('path', SYNBG_CONFIGS, ids=lambda p: osp.basename(p))
def test_synbg_training_only_flips(path):
    # The demo's pipelines: no crop, no colour jitter.
    cfg = Config.fromfile(path)
    for augmentation in _train_augmentations(cfg.train_dataloader.dataset.pipeline):
        assert [dict(t) for t in augmentation] == [
            dict(type='RandomFlip', prob=0.5, direction='horizontal')
        ]


@pytest.mark.parametrize(
    'name, feat_dim',
    [
        ('clad/resnet50_in9_clad.py', 2048),
        ('clad/resnet50_in9_clad_plus.py', 2048),
        ('s_clad/resnet50_in9_sclad.py', 2048),
        ('s_clad/resnet50_in9_sclad_plus.py', 2048),
        ('clad/efficientnet_lite0_in9_clad.py', 1280),
        ('clad/efficientnet_lite0_in9_clad_plus.py', 1280),
        ('clad/efficientnet_lite0_synbg_clad.py', 1280),
        ('clad/efficientnet_lite0_synbg_clad_plus.py', 1280),
    ],
)
def test_in9_clad_configs_follow_the_papers_contrastive_recipe(name, feat_dim):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    assert cfg.model.type == 'CLADClassifier'
    assert cfg.model.contrastive_head.loss_weight == 1.0  # λ
    assert cfg.model.contrastive_head.temperature == 0.2  # τ
    assert cfg.model.dictionary.queue_size == 32  # N
    assert cfg.model.dictionary.num_keys == 9
    assert cfg.model.get('enqueue_before_loss', True) is True
    model = MODELS.build(cfg.model)
    # The negatives are features of the head's input (ResNet-50: 2048,
    # EfficientNet-Lite0: 1280).
    assert model.dictionary.feat_dim == model.head.in_channels == feat_dim
    assert model.with_pos_loss is name.endswith('_plus.py')


def test_lite0_configs_are_found():
    names = {osp.basename(path) for path in LITE0_TRAINING_CONFIGS}
    assert {
        f'efficientnet_lite0_{data}_{method}.py'
        for data in ('synbg', 'in9')
        for method in ('baseline', 'clad', 'clad_plus', 'mr')
    } <= names


@pytest.mark.parametrize('path', LITE0_TRAINING_CONFIGS, ids=lambda p: osp.basename(p))
def test_lite0_configs_start_from_the_converted_imagenet_backbone(path):
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.type == 'TIMMBackbone'
    assert cfg.model.backbone.model_name == 'tf_efficientnet_lite0'  # "same" padding
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint='checkpoints/efficientnet_lite0_in1k.pth',
        prefix='backbone.',
    )
    # EfficientNet-Lite's own statistics, in RGB order, and the data set's classes.
    assert cfg.data_preprocessor == dict(
        num_classes=9, mean=[127.0] * 3, std=[128.0] * 3, to_rgb=True
    )
    assert cfg.model.head.num_classes == 9


def test_swap_control_is_clad_plus_without_the_contrastive_term():
    control = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/clad/efficientnet_lite0_synbg_swap_control.py')
    )
    clad_plus = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/clad/efficientnet_lite0_synbg_clad_plus.py')
    )
    assert control.model.contrastive_head.loss_weight == 0.0
    control.model.contrastive_head.loss_weight = (
        clad_plus.model.contrastive_head.loss_weight
    )
    assert control.model == clad_plus.model
    assert control.train_dataloader == clad_plus.train_dataloader


README_CONVNEXT_SNIPPET = """
_base_ = [{base!r}]
model = dict(
    backbone=dict(_delete_=True, type='ConvNeXt', arch='tiny', drop_path_rate=0.1),
    neck=None,  # ConvNeXt pools its output itself
    head=dict(in_channels=768),
)
"""


def test_readme_convnext_snippet_builds_and_trains_a_clad_step(tmp_path):
    base = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
    config = tmp_path / 'convnext_clad.py'
    config.write_text(README_CONVNEXT_SNIPPET.format(base=base))
    cfg = Config.fromfile(str(config))
    model = MODELS.build(cfg.model)
    assert model.dictionary.feat_dim == 768
    views = [torch.rand(2, 3, 32, 32) * 255 for _ in range(2)]
    samples = []
    for label, background in ((0, 1), (1, 0)):
        sample = DataSample().set_gt_label(label)
        sample.set_field(background, 'pos_bg_label')
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=views, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v) for k, v in losses.items() if 'loss' in k)

    config.write_text(
        README_CONVNEXT_SNIPPET.format(base=base)
        + 'model.update(dictionary=dict(feat_dim=512))\n'
    )
    with pytest.raises(ValueError, match=r'model\.dictionary\.feat_dim=512.*768'):
        MODELS.build(Config.fromfile(str(config)).model)
