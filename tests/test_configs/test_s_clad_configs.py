"""The S-CLAD ImageNet-9 configs train with AdaIN positives keyed by texture."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import clad_mm  # noqa: F401
from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.models.stylization.adain import AdaINStylizer

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCLAD_CONFIG = osp.join(REPO_ROOT, 'configs/s_clad/resnet50_in9_sclad.py')


@pytest.fixture(scope='module')
def in9_like_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('in9_like'))
    generate_synbg(
        root, image_size=32, train_per_class=2, test_per_class=2, show_progress=False
    )
    return root


@pytest.fixture(scope='module')
def adain_weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp('adain')
    stylizer = AdaINStylizer()
    encoder, decoder = str(folder / 'encoder.pth'), str(folder / 'decoder.pth')
    torch.save(stylizer.encoder.state_dict(), encoder)
    torch.save(stylizer.decoder.state_dict(), decoder)
    return encoder, decoder


def test_sclad_plus_and_sin9_differ_from_sclad_and_baseline_as_documented():
    sclad = Config.fromfile(SCLAD_CONFIG)
    plus = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/s_clad/resnet50_in9_sclad_plus.py')
    )
    sin9 = Config.fromfile(osp.join(REPO_ROOT, 'configs/s_clad/resnet50_in9_sin9.py'))
    assert sclad.model.dictionary_key == 'pos_texture_label'
    assert not sclad.model.with_pos_loss and plus.model.with_pos_loss
    assert sclad.data_preprocessor.type == 'StylizingDataPreprocessor'
    # The base's normalisation is kept under the stylizing preprocessor.
    assert sclad.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert sin9.train_dataloader.dataset.image_dir == 'stylized'
    assert sin9.model.type == 'ImageClassifier'


def test_sclad_config_trains_one_iteration(in9_like_root, adain_weights, tmp_path):
    cfg = Config.fromfile(SCLAD_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_scope = 'mmpretrain'
    cfg.model.backbone.init_cfg = None  # no download; random weights
    cfg.data_preprocessor.stylizer.encoder_checkpoint = adain_weights[0]
    cfg.data_preprocessor.stylizer.decoder_checkpoint = adain_weights[1]
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = in9_like_root
    views, style = dataset.pipeline[1], dataset.pipeline[2]
    assert views.type == 'MultiView' and style.type == 'LoadStyleImage'
    views.transforms[0][0].scale = 48
    style.style_root = osp.join(in9_like_root, 'original', 'train')
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg = dict(by_epoch=False, max_iters=1)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    dictionary = runner.model.dictionary
    assert dictionary.is_initialized
    # AdaIN's weights are an external, frozen file: not part of the model.
    assert not any('stylizer' in key for key in runner.model.state_dict())
