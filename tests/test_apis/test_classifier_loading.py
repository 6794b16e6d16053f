"""Checked checkpoint loading and the shared test pipeline of clad_mm.apis."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmpretrain.apis import get_model
from mmpretrain.registry import MODELS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.apis import (
    InferencePipeline,
    load_classifier,
    read_checkpoint,
    require_checkpoint_fits,
)
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
# 8-channel stem: the 512-d ResNet-18 features become 64-d.
TINY_MODEL = (
    'model = dict(backbone=dict(stem_channels=8, base_channels=8),\n'
    '             head=dict(in_channels=64){})\n'
)


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """Tiny baseline and CLAD configs (9 classes), as files."""
    root = tmp_path_factory.mktemp('configs')
    baseline = root / 'tiny_baseline.py'
    baseline.write_text(f'_base_ = [{BASELINE_CONFIG!r}]\n' + TINY_MODEL.format(''))
    clad = root / 'tiny_clad.py'
    clad.write_text(
        f'_base_ = [{CLAD_CONFIG!r}]\n'
        + TINY_MODEL.format(', dictionary=dict(feat_dim=64)')
    )
    return str(baseline), str(clad)


def build_model(num_classes, stem_channels=8):
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet', depth=18, stem_channels=stem_channels, base_channels=8
            ),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=64),
        )
    )


def save_checkpoint(path, model_or_state_dict, prefix='', wrap=True, meta=None):
    state_dict = getattr(model_or_state_dict, 'state_dict', lambda: None)()
    state_dict = model_or_state_dict if state_dict is None else state_dict
    state_dict = {prefix + key: value for key, value in state_dict.items()}
    saved = dict(state_dict=state_dict, meta=meta or {}) if wrap else state_dict
    torch.save(saved, str(path))
    return str(path)


def random_model(config, seed):
    torch.manual_seed(seed)
    return get_model(config).eval()


@torch.no_grad()
def logits(model, inputs):
    return model(inputs, mode='tensor')


@pytest.fixture(scope='module')
def inputs():
    return torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def test_other_class_count_names_checkpoint_config_and_both_counts(configs, tmp_path):
    baseline, _ = configs
    five_classes = save_checkpoint(
        tmp_path / 'five.pth', get_model(baseline, head=dict(num_classes=5))
    )

    with pytest.raises(UserError) as error:
        load_classifier(baseline, five_classes)
    # The tiny head is a 64 -> 5 linear layer, the config's 64 -> 9.
    assert str(error.value) == (
        f'Checkpoint {five_classes} does not fit the model of config {baseline}: '
        'it has 5 classes (head.fc.weight is (5, 64)) but the config has 9 '
        '(model.head.num_classes; head.fc.weight is (9, 64))'
    )


@pytest.mark.parametrize('source, target', [('clad', 'baseline'), ('baseline', 'clad')])
def test_clad_and_baseline_checkpoints_run_in_either_config(
    configs, tmp_path, inputs, source, target
):
    config = dict(zip(('baseline', 'clad'), configs))
    trained = random_model(config[source], seed=1)
    if source == 'clad':
        trained.dictionary.queues.normal_()
    checkpoint = save_checkpoint(tmp_path / f'{source}.pth', trained)
    saved_keys = read_checkpoint(checkpoint)[0]
    assert any(key.startswith('dictionary.') for key in saved_keys) == (
        source == 'clad'
    )

    in_target = load_classifier(config[target], checkpoint)
    in_source = load_classifier(config[source], checkpoint)

    assert type(in_target).__name__ == (
        'CLADClassifier' if target == 'clad' else 'ImageClassifier'
    )
    expected = logits(trained, inputs)
    assert torch.equal(logits(in_target, inputs), expected)
    assert torch.equal(logits(in_source, inputs), expected)
    # Not the logits of a model that kept its own random initialisation.
    assert not torch.equal(logits(random_model(config[target], 2), inputs), expected)


def test_missing_head_weights_are_an_error(configs, tmp_path):
    baseline, _ = configs
    state_dict = get_model(baseline).state_dict()
    backbone_only = save_checkpoint(
        tmp_path / 'backbone.pth',
        {k: v for k, v in state_dict.items() if not k.startswith('head.')},
        wrap=False,
    )

    with pytest.raises(UserError) as error:
        load_classifier(baseline, backbone_only)
    assert str(error.value) == (
        f'Checkpoint {backbone_only} does not fit the model of config '
        f"{baseline}: it lacks 2 of the model's weights, e.g. head.fc.weight, "
        'head.fc.bias'
    )


def test_ddp_prefix_bare_state_dict_and_class_names(configs, tmp_path, inputs):
    baseline, _ = configs
    trained = random_model(baseline, seed=3)
    classes = tuple(f'class_{index}' for index in range(9))
    prefixed = save_checkpoint(
        tmp_path / 'ddp.pth',
        trained,
        prefix='module.',
        meta=dict(dataset_meta=dict(classes=classes)),
    )
    bare = save_checkpoint(tmp_path / 'bare.pth', trained, wrap=False)

    from_prefixed = load_classifier(baseline, prefixed)
    from_bare = load_classifier(baseline, bare)

    assert torch.equal(logits(from_prefixed, inputs), logits(trained, inputs))
    assert torch.equal(logits(from_bare, inputs), logits(trained, inputs))
    assert from_prefixed._dataset_meta['classes'] == classes
    assert not from_prefixed.training


def check(model, checkpoint, config='nine.py'):
    require_checkpoint_fits(model, read_checkpoint(checkpoint)[0], checkpoint, config)


def test_ddp_prefixed_checkpoint_of_other_class_count_is_refused(tmp_path):
    checkpoint = save_checkpoint(tmp_path / 'ddp.pth', build_model(9), prefix='module.')

    with pytest.raises(UserError, match='it has 9 classes'):
        check(build_model(1000), checkpoint)


def test_tta_wrapped_model_is_checked(tmp_path):
    checkpoint = save_checkpoint(tmp_path / 'nine.pth', build_model(9))
    tta_model = MODELS.build(dict(type='AverageClsScoreTTA', module=build_model(1000)))
    # Not an MMEngine model wrapper: unwrapping only those would miss it.
    assert not is_model_wrapper(tta_model)

    with pytest.raises(UserError, match='it has 9 classes'):
        check(tta_model, checkpoint)


@pytest.mark.parametrize(
    'saved_classes, problems',
    [
        (9, '6 tensors differ'),
        (
            1000,
            'it has 1000 classes (head.fc.weight is (1000, 64)) but the config '
            'has 9 (model.head.num_classes; head.fc.weight is (9, 64)), and 6 '
            'other tensors differ',
        ),
    ],
)
def test_other_architecture_names_the_tensors(tmp_path, saved_classes, problems):
    # A wider stem changes conv1, its 4 BN tensors and layer1.0.conv1.
    wider = build_model(saved_classes, stem_channels=16)
    checkpoint = save_checkpoint(tmp_path / 'wide.pth', wider)

    with pytest.raises(UserError) as error:
        check(build_model(9), checkpoint)
    assert str(error.value).startswith(
        f'Checkpoint {checkpoint} does not fit the model of config nine.py: '
        f'{problems} in shape, e.g. backbone.conv1.weight: (16, 3, 7, 7) in the '
        'checkpoint, (8, 3, 7, 7) in the model; backbone.bn1.weight: (16,)'
    )


def test_matching_checkpoint_passes(tmp_path):
    check(build_model(9), save_checkpoint(tmp_path / 'nine.pth', build_model(9)))


def test_pipeline_gives_a_file_and_its_pixels_the_same_inputs(configs, tmp_path):
    baseline, _ = configs
    pixels = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    path = str(tmp_path / 'image.png')
    cv2.imwrite(path, pixels)
    pipeline = InferencePipeline(Config.fromfile(baseline))

    from_file = pipeline(path)['inputs']
    from_array = pipeline(pipeline.load_image(path))['inputs']

    # The SynBG test pipeline only packs: C x H x W, BGR as cv2 wrote it.
    expected = torch.from_numpy(pixels).permute(2, 0, 1)
    assert torch.equal(from_file, expected)
    assert torch.equal(from_array, expected)


def test_pipeline_must_start_by_loading_the_image(configs):
    config = Config.fromfile(configs[0])
    config.test_dataloader.dataset.pipeline = [dict(type='PackInputs')]

    with pytest.raises(ValueError, match='must start with LoadImageFromFile'):
        InferencePipeline(config)
