"""NegativeDictionaryHook: the model's enqueue order kept and checked, health
logging, resume of the queues."""

import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS, MODELS
from tiny_data import make_tiny_synbg

import clad_mm  # noqa: F401
from clad_mm.engine.hooks import NegativeDictionaryHook
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')


def fake_runner(model, iteration=0):
    return SimpleNamespace(
        model=model,
        iter=iteration,
        message_hub=MessageHub.get_instance('negative_dictionary_hook_test'),
    )


def tiny_clad_model(**overrides):
    return MODELS.build(
        dict(
            type='CLADClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
            contrastive_head=dict(type='InfoNCEHead'),
            dictionary=dict(type='NegativeDictionary', num_keys=3, queue_size=2),
            **overrides,
        )
    )


def test_hook_of_the_config_keeps_the_models_enqueue_order():
    cfg = Config.fromfile(CLAD_CONFIG)
    cfg.model.enqueue_before_loss = False
    model = MODELS.build(cfg.model)
    (hook_cfg,) = [h for h in cfg.custom_hooks if h.type == 'NegativeDictionaryHook']
    hook = HOOKS.build(hook_cfg)
    hook.before_train(fake_runner(model))
    assert model.enqueue_before_loss is False
    # The paper's order is the model's default, kept as well.
    model = tiny_clad_model()
    hook.before_train(fake_runner(model))
    assert model.enqueue_before_loss is True


@pytest.mark.parametrize(
    'hook_order, model_flag', [('after_loss', True), ('before_loss', False)]
)
def test_hook_contradicting_the_model_is_an_error_naming_both_keys(
    hook_order, model_flag
):
    model = tiny_clad_model(enqueue_before_loss=model_flag)
    hook = NegativeDictionaryHook(enqueue=hook_order)
    with pytest.raises(
        ValueError,
        match=rf"NegativeDictionaryHook\.enqueue='{hook_order}'.*"
        rf'model\.enqueue_before_loss={model_flag}',
    ):
        hook.before_train(fake_runner(model))


def test_hook_agreeing_with_the_model_changes_nothing():
    model = tiny_clad_model(enqueue_before_loss=False)
    NegativeDictionaryHook(enqueue='after_loss').before_train(fake_runner(model))
    assert model.enqueue_before_loss is False


def test_hook_logs_fill_and_staleness_every_interval():
    model = tiny_clad_model()
    model.dictionary.enqueue(torch.rand(3, 512), torch.tensor([0, 0, 1]))
    model.dictionary.enqueue(torch.rand(1, 512), torch.tensor([0]))
    hook = NegativeDictionaryHook(interval=2)
    runner = fake_runner(model, iteration=0)  # iteration 1: not logged
    hook.after_train_iter(runner, batch_idx=0)
    assert 'train/dict_fill_ratio_mean' not in runner.message_hub.log_scalars
    runner.iter = 1  # iteration 2: logged
    hook.after_train_iter(runner, batch_idx=1)
    scalars = runner.message_hub.log_scalars
    # Queues of size 2: key 0 full, key 1 half, key 2 empty.
    assert scalars['train/dict_fill_ratio_mean'].current() == pytest.approx(0.5)
    assert scalars['train/dict_fill_ratio_min'].current() == 0.0
    # Entries written at steps 1 (key 0, 1 ... ) and 2: ages after 2 steps are
    # key 0: slot 0 rewritten at step 2 (age 0), slot 1 from step 1 (age 1);
    # key 1: slot 0 from step 1 (age 1).
    assert scalars['train/dict_staleness_mean'].current() == pytest.approx(2 / 3)
    assert scalars['train/dict_staleness_max'].current() == 1.0


def test_hook_refuses_a_model_without_dictionary():
    plain = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
        )
    )
    with pytest.raises(UserError, match='CLADClassifier'):
        NegativeDictionaryHook().before_train(fake_runner(plain))


def test_unknown_enqueue_order_is_refused():
    with pytest.raises(ValueError, match='before_loss'):
        NegativeDictionaryHook(enqueue='sometimes')


def clad_runner(data_root, work_dir, max_epochs, resume=False):
    cfg = Config.fromfile(CLAD_CONFIG)
    cfg.merge_from_dict(
        {
            'work_dir': str(work_dir),
            # BackgroundSwap follows it to data_root/only_bg_t/train.
            'train_dataloader.dataset.data_root': data_root,
            'train_dataloader.batch_size': 9,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'train_cfg.max_epochs': max_epochs,
            'default_hooks.logger.interval': 1,
            'resume': resume,
        }
    )
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    return Runner.from_cfg(cfg)


def test_resume_restores_identical_queues(tmp_path):
    data_root = str(tmp_path / 'synbg')
    make_tiny_synbg(data_root)
    first = clad_runner(data_root, tmp_path / 'work', max_epochs=1)
    first.train()
    trained = first.model.dictionary
    assert trained.is_initialized and int(trained.step) == 2

    resumed = clad_runner(data_root, tmp_path / 'work', max_epochs=2, resume=True)
    resumed.load_or_resume()
    restored = resumed.model.dictionary
    for name, buffer in trained.named_buffers():
        assert torch.equal(getattr(restored, name), buffer), name
