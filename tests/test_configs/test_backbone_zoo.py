"""The IN-9 backbone zoo (configs/clad/<backbone>_in9_{baseline,clad,clad_plus}.py).

Each config builds without its pretrained weights (nothing is downloaded),
trains one iteration on 64 px images through its own data preprocessor,
loss and optimizer wrapper, and predicts 9 classes (the baselines also at
IN-9's 224 px, as shipped); each follows the CLAD
recipe, and its input normalisation is that of the MMPretrain recipe its
checkpoint was trained with, read from MMPretrain's own config files.
"""

import copy
import glob
import math
import os.path as osp

import mmpretrain
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401  (registers the CLAD parts; mmpretrain:: bases)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MIM_ROOT = osp.join(osp.dirname(mmpretrain.__file__), '.mim')
NUM_CLASSES = 9
#: Small enough for a fast CPU step, and below the sizes the backbones were
#: pretrained at: Swin's last two stage maps (4x4, 2x2) are smaller than its
#: 7x7 window, and ViT's patch grid (4x4) is not its position embedding's.
IMAGE_SIZE = 64

#: Backbone name in the config file names: (backbone type, width of
#: head.pre_logits, the CLAD contrastive feature).
ZOO = {
    'vit_small_p16': ('VisionTransformer', 384),
    'swin_tiny': ('SwinTransformer', 768),
    'convnext_tiny': ('ConvNeXt', 768),
    'efficientnet_b0': ('EfficientNet', 1280),
    # The hidden layer of StackedLinearClsHead, not the head's 960-d input.
    'mobilenet_v3_large': ('MobileNetV3', 1280),
}
METHODS = ('baseline', 'clad', 'clad_plus')
#: Backbones trained with the paper's Adam; the transformer-style ones take
#: AdamW (each config says why).
ADAM_BACKBONES = ('efficientnet_b0', 'mobilenet_v3_large')


def zoo_path(name, method):
    return osp.join(REPO_ROOT, 'configs', 'clad', f'{name}_in9_{method}.py')


ZOO_CASES = [(name, method) for name in ZOO for method in METHODS]


def case_id(case):
    return f'{case[0]}_{case[1]}'


def build_without_weights(cfg):
    """The config's model, randomly initialised, without any download.

    ``init_weights()`` is never called, and the ``init_cfg`` entries that
    name the checkpoint are removed in case something calls it.

    Args:
        cfg (Config): A zoo config.

    Returns:
        nn.Module: The model in training mode, with the config's data
        preprocessor merged in as the Runner does.
    """
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)
    model_cfg.head.pop('init_cfg', None)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    return model.train()


def training_batch(clad, generator):
    """Two uint8 images as a collated training batch.

    Args:
        clad (bool): Two views (anchor, background-swapped positive) with
            each positive's background class, as CLAD's pipeline packs them;
            else one view.
        generator (torch.Generator): Source of the pixels.

    Returns:
        dict: ``inputs`` and ``data_samples``.
    """

    def images():
        shape = (2, 3, IMAGE_SIZE, IMAGE_SIZE)
        return torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)

    samples = []
    for label, background in ((0, 5), (7, 2)):
        sample = DataSample().set_gt_label(label)
        if clad:
            sample.set_field(background, 'pos_bg_label')
        samples.append(sample)
    inputs = [images(), images()] if clad else images()
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('case', ZOO_CASES, ids=case_id)
def test_zoo_config_trains_one_iteration_and_predicts_9_classes(case):
    name, method = case
    cfg = Config.fromfile(zoo_path(name, method))
    if cfg.model.backbone.type == 'SwinTransformer':
        # 64 px: the small-image setting its config names (stage maps padded
        # to the 7x7 window).
        cfg.model.backbone.pad_small_map = True
    torch.manual_seed(0)  # drop path and dropout
    model = build_without_weights(cfg)
    clad = method != 'baseline'
    if clad:
        assert model.dictionary.feat_dim == ZOO[name][1]
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    before = {
        key: value.detach().clone()
        for key, value in model.named_parameters()
        if value.requires_grad
    }
    generator = torch.Generator().manual_seed(0)

    log_vars = model.train_step(training_batch(clad, generator), optim_wrapper)

    expected = {'loss'}
    if clad:
        expected |= {'loss_cls', 'loss_infonce', 'infonce_acc'}
    if method == 'clad_plus':
        expected.add('loss_pos')
    assert expected <= set(log_vars), log_vars
    assert all(math.isfinite(float(v.detach())) for v in log_vars.values()), log_vars
    # A first Adam(W) step moves every weight with a gradient by about lr
    # (m / sqrt(v) = ±1), whatever the clipping; weight decay alone would
    # move it by lr * 0.05 * |w|. So each kernel, linear weight, class token
    # and position embedding that moved by lr/2 somewhere got a gradient:
    # the loss reached the whole model. (Not every 1-d tensor: a
    # BatchNorm bias whose output only feeds 1x1 convolutions into other
    # training-mode BatchNorms has a zero gradient in any network.)
    unmoved = [
        key
        for key, value in model.named_parameters()
        if key in before
        and value.dim() > 1
        and (value.detach() - before[key]).abs().max() < lr / 2
    ]
    assert not unmoved, unmoved
    if clad:
        # The positives went into their background classes' queues.
        assert int(model.dictionary.num_written[5]) >= 1
        assert int(model.dictionary.num_written[2]) >= 1

    model.eval()
    test_images = torch.randint(
        0, 256, (2, 3, IMAGE_SIZE, IMAGE_SIZE), generator=generator, dtype=torch.uint8
    )
    with torch.no_grad():
        predictions = model.test_step(dict(inputs=test_images, data_samples=None))
    assert len(predictions) == 2
    for prediction in predictions:
        assert prediction.pred_score.shape == (NUM_CLASSES,)
        assert torch.isfinite(prediction.pred_score).all()
        assert 0 <= int(prediction.pred_label) < NUM_CLASSES


def test_mobilenet_v3_dictionary_has_the_width_of_the_hidden_layer():
    # MobileNetV3-Large's StackedLinearClsHead reads the pooled 960-d feature
    # and its pre_logits returns the 1280-d hidden layer: the negatives are
    # those, not the head's input.
    cfg = Config.fromfile(zoo_path('mobilenet_v3_large', 'clad'))
    torch.manual_seed(0)
    model = build_without_weights(cfg)
    assert model.head.in_channels == 960
    assert model.dictionary.feat_dim == 1280
    assert model.dictionary.queues.shape[-1] == 1280

    data = model.data_preprocessor(
        training_batch(True, torch.Generator().manual_seed(0)), True
    )
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v) for k, v in losses.items() if 'loss' in k)
    positives = data['inputs'][1]
    with torch.no_grad():
        embeddings = model.head.pre_logits(model.extract_feat(positives))
    assert embeddings.shape == (2, 1280)

    # An explicit width of the head's input is refused, naming both sizes.
    cfg.model.dictionary.feat_dim = 960
    with pytest.raises(
        ValueError, match=r'feat_dim=960 differs from 1280.*in_channels=960'
    ):
        build_without_weights(cfg)


def test_feat_dim_follows_a_vit_head_with_a_hidden_layer():
    cfg = Config.fromfile(zoo_path('vit_small_p16', 'clad'))
    cfg.model.head.hidden_dim = 256
    model = build_without_weights(cfg)
    assert model.dictionary.feat_dim == 256


def test_mobilenet_v3_loads_the_pretrained_hidden_layer_and_a_new_last_layer(
    tmp_path,
):
    # A checkpoint shaped like MMPretrain's 1000-class MobileNetV3-Large (made
    # here from the model itself: nothing is downloaded) loads into the
    # backbone and the head's hidden layer; the 9-way layer keeps its init.
    cfg = Config.fromfile(zoo_path('mobilenet_v3_large', 'baseline'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    reference = MODELS.build(model_cfg).state_dict()
    checkpoint = {key: torch.full_like(value, 0.5) for key, value in reference.items()}
    checkpoint['head.layers.1.fc.weight'] = torch.zeros(1000, 1280)
    checkpoint['head.layers.1.fc.bias'] = torch.zeros(1000)
    path = str(tmp_path / 'mobilenet_v3_large_in1k.pth')
    torch.save(dict(state_dict=checkpoint), path)
    model_cfg.backbone.init_cfg.checkpoint = path
    model_cfg.head.init_cfg[1].checkpoint = path
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)

    model.init_weights()

    stem = model.backbone.layer0.conv.weight
    assert torch.equal(stem, torch.full_like(stem, 0.5))
    hidden = model.head.layers[0].fc.weight
    assert torch.equal(hidden, torch.full_like(hidden, 0.5))
    last = model.head.layers[1].fc
    assert last.weight.shape == (NUM_CLASSES, 1280)
    assert 0.005 < float(last.weight.detach().std()) < 0.02  # Normal(0, 0.01)
    assert torch.equal(last.bias, torch.zeros(NUM_CLASSES))


@pytest.mark.parametrize('name', ZOO)
def test_zoo_baseline_predicts_at_the_224_px_of_in9(name):
    # The size IN-9's images and the checkpoints have, as the shipped
    # config is (Swin without padding).
    cfg = Config.fromfile(zoo_path(name, 'baseline'))
    model = build_without_weights(cfg).eval()
    images = torch.randint(0, 256, (1, 3, 224, 224), dtype=torch.uint8)
    with torch.no_grad():
        (prediction,) = model.test_step(dict(inputs=images, data_samples=None))
    assert prediction.pred_score.shape == (NUM_CLASSES,)
    assert torch.isfinite(prediction.pred_score).all()


def test_zoo_configs_are_all_here():
    configs = glob.glob(osp.join(REPO_ROOT, 'configs', 'clad', '*_in9_*.py'))
    names = {osp.basename(path) for path in configs}
    assert {osp.basename(zoo_path(*case)) for case in ZOO_CASES} <= names


@pytest.mark.parametrize('case', ZOO_CASES, ids=case_id)
def test_zoo_config_keeps_the_clad_recipe(case):
    name, method = case
    cfg = Config.fromfile(zoo_path(name, method))
    assert cfg.model.backbone.type == ZOO[name][0]
    assert cfg.model.head.num_classes == NUM_CLASSES
    assert cfg.model.head.topk == (1,)
    assert cfg.model.head.loss == dict(type='CrossEntropyLoss', loss_weight=1.0)
    # No Mixup/CutMix from MMPretrain's model bases.
    assert not (cfg.model.get('train_cfg') or {}).get('augments')
    assert cfg.data_preprocessor.num_classes == NUM_CLASSES
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.param_scheduler == dict(
        type='MultiStepLR', by_epoch=True, milestones=[20], gamma=0.1
    )
    assert cfg.train_cfg.max_epochs == 60
    assert cfg.randomness.seed == 42
    optimizer = cfg.optim_wrapper.optimizer
    if name in ADAM_BACKBONES:
        assert optimizer == dict(type='Adam', lr=1e-3, weight_decay=0)
    else:
        assert optimizer == dict(type='AdamW', lr=1e-4, weight_decay=0.05)
    if name in ('vit_small_p16', 'swin_tiny'):
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=5.0)
    if method == 'baseline':
        assert cfg.model.type == 'ImageClassifier'
        return
    assert cfg.model.type == 'CLADClassifier'
    assert cfg.model.contrastive_head == dict(
        type='InfoNCEHead', temperature=0.2, loss_weight=1.0
    )
    assert cfg.model.dictionary == dict(
        type='NegativeDictionary', num_keys=9, queue_size=32
    )
    assert cfg.model.with_pos_loss is (method == 'clad_plus')
    assert [hook['type'] for hook in cfg.custom_hooks] == [
        'DeterministicRandomStateHook',
        'NegativeDictionaryHook',
    ]
    pipeline = [step['type'] for step in cfg.train_dataloader.dataset.pipeline]
    assert 'BackgroundSwap' in pipeline and 'TwoViewPipeline' in pipeline


def _mmpretrain_model_entry(weights):
    """The entry of MMPretrain's metafiles whose ``Weights`` is ``weights``.

    Args:
        weights (str): A checkpoint URL.

    Returns:
        dict | None: The model entry (``Name``, ``Results``, ``Config``...).
    """
    pattern = osp.join(MIM_ROOT, 'configs', '*', 'metafile.yml')
    for metafile in sorted(glob.glob(pattern)):
        with open(metafile, encoding='utf-8') as file:
            text = file.read()
        if weights not in text:  # parse only the metafile that names it
            continue
        for entry in yaml.safe_load(text).get('Models', []):
            if entry.get('Weights') == weights:
                return entry
    return None


@pytest.mark.parametrize('name', ZOO)
def test_zoo_configs_match_their_checkpoints_mmpretrain_recipe(name):
    configs = [Config.fromfile(zoo_path(name, method)) for method in METHODS]
    checkpoint = configs[0].model.backbone.init_cfg.checkpoint
    # The checkpoint is one of MMPretrain's ImageNet-1k models, and the
    # recipe it was trained with is the config its metafile names.
    entry = _mmpretrain_model_entry(checkpoint)
    assert entry is not None, f'{checkpoint} is in no MMPretrain metafile'
    datasets = {result['Dataset'] for result in entry['Results']}
    assert datasets == {'ImageNet-1k'}, (entry['Name'], datasets)
    recipe = Config.fromfile(osp.join(MIM_ROOT, entry['Config']))

    for method, cfg in zip(METHODS, configs):
        init_cfg = cfg.model.backbone.init_cfg
        assert init_cfg == dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone'
        ), method
        for key in ('mean', 'std', 'to_rgb'):
            expected = recipe.data_preprocessor[key]
            assert cfg.data_preprocessor[key] == expected, f'{method}: {key}'
        for key in ('type', 'arch', 'patch_size', 'img_size'):
            if key in recipe.model.backbone:
                expected = recipe.model.backbone[key]
                assert cfg.model.backbone[key] == expected, f'{method}: {key}'
        assert cfg.model.head.type == recipe.model.head.type, method
        assert cfg.model.head.in_channels == recipe.model.head.in_channels, method
        assert cfg.model.get('neck') == recipe.model.get('neck'), method
        if cfg.model.backbone.type == 'SwinTransformer':
            # At IN-9's 224 px the windows are those of the pretrained network.
            recipe_padding = recipe.model.backbone.get('pad_small_map', False)
            assert cfg.model.backbone.pad_small_map == recipe_padding, method
