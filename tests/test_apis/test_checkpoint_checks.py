"""clad_mm.apis.check_checkpoints: load_from and resume checkpoints are checked
before training, against the Runner's model."""

import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.apis import check_checkpoints
from clad_mm.utils.errors import MissingFileError, UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
# 8-channel stem: the 512-d ResNet-18 features become 64-d.
TINY_MODEL = (
    'model = dict(backbone=dict(stem_channels={stem}, base_channels=8),\n'
    '             head=dict(in_channels=64))\n'
)


def tiny_config(folder, stem):
    path = folder / f'tiny_stem{stem}.py'
    path.write_text(f'_base_ = [{BASELINE_CONFIG!r}]\n' + TINY_MODEL.format(stem=stem))
    return str(path)


@pytest.fixture(scope='module')
def runner(tmp_path_factory):
    """A Runner of the tiny baseline (its model is all that is checked)."""
    root = tmp_path_factory.mktemp('checks')
    cfg = Config.fromfile(tiny_config(root, stem=8))
    cfg.work_dir = str(root / 'work')
    return Runner.from_cfg(cfg)


@pytest.fixture(scope='module')
def other_architecture(runner, tmp_path_factory):
    """State dict of the same network with a 16-channel stem."""
    from mmpretrain.apis import get_model

    root = tmp_path_factory.mktemp('other')
    return get_model(tiny_config(root, stem=16)).state_dict()


def training_checkpoint(path, state_dict, **entries):
    """What CheckpointHook saves, with ``entries`` replaced (None: left out)."""
    checkpoint = dict(
        meta=dict(epoch=1, iter=2),
        state_dict=state_dict,
        optimizer=dict(state={}, param_groups=[]),
        message_hub=dict(log_scalars={}, runtime_info={}, resumed_keys={}),
    )
    checkpoint.update(entries)
    torch.save({k: v for k, v in checkpoint.items() if v is not None}, path)
    return str(path)


def config_of(runner, **keys):
    return Config(dict(runner.cfg.to_dict(), **keys))


def test_fitting_load_from_and_resume_pass(runner, tmp_path):
    checkpoint = training_checkpoint(tmp_path / 'own.pth', runner.model.state_dict())
    check_checkpoints(runner, config_of(runner, load_from=checkpoint))
    check_checkpoints(runner, config_of(runner, load_from=checkpoint, resume=True))


def test_load_from_of_other_architecture_names_key_tensors_and_hint(
    runner, other_architecture, tmp_path
):
    checkpoint = training_checkpoint(tmp_path / 'other.pth', other_architecture)
    with pytest.raises(UserError) as error:
        check_checkpoints(runner, config_of(runner, load_from=checkpoint))
    message = str(error.value)
    assert message.startswith(
        f'load_from: Checkpoint {checkpoint} does not fit the model of config '
    )
    # The stem convolution has 16 output channels there, 8 here.
    assert 'backbone.conv1.weight: (16, 3, 7, 7) in the checkpoint, (8, 3, 7, 7)' in (
        message
    )
    assert message.endswith(
        "model.backbone.init_cfg=dict(type='Pretrained', "
        f"checkpoint='{checkpoint}', prefix='backbone.') instead"
    )


def test_load_from_lacking_the_head_is_refused(runner, tmp_path):
    backbone_only = {
        key: value
        for key, value in runner.model.state_dict().items()
        if not key.startswith('head.')
    }
    checkpoint = training_checkpoint(tmp_path / 'backbone.pth', backbone_only)
    with pytest.raises(UserError, match="lacks 2 of the model's weights, e.g. head"):
        check_checkpoints(runner, config_of(runner, load_from=checkpoint))


def test_resume_from_bare_state_dict_names_what_is_missing(runner, tmp_path):
    bare = tmp_path / 'bare.pth'
    torch.save(runner.model.state_dict(), bare)
    with pytest.raises(UserError) as error:
        check_checkpoints(runner, config_of(runner, load_from=str(bare), resume=True))
    assert str(error.value) == (
        f'Cannot resume from {bare}: it lacks state_dict, meta.epoch, meta.iter, '
        'optimizer, message_hub, which a checkpoint saved by training holds; to '
        'start from its weights, set load_from without --resume'
    )


def test_resume_without_optimizer_is_refused(runner, tmp_path):
    checkpoint = training_checkpoint(
        tmp_path / 'no_optim.pth', runner.model.state_dict(), optimizer=None
    )
    with pytest.raises(UserError, match='it lacks optimizer, which'):
        check_checkpoints(runner, config_of(runner, load_from=checkpoint, resume=True))


def test_resume_from_other_architecture_is_refused(
    runner, other_architecture, tmp_path
):
    checkpoint = training_checkpoint(tmp_path / 'other.pth', other_architecture)
    with pytest.raises(UserError) as error:
        check_checkpoints(runner, config_of(runner, load_from=checkpoint, resume=True))
    message = str(error.value)
    assert message.startswith(f'Cannot resume: Checkpoint {checkpoint} does not fit')
    assert 'backbone.conv1.weight: (16, 3, 7, 7) in the checkpoint' in message


def test_resume_checks_every_tensor_not_only_the_prediction_modules(runner, tmp_path):
    # Extra tensors (e.g. a CLAD negative dictionary resumed in a baseline
    # config) would leave the optimizer state of another model.
    state_dict = dict(runner.model.state_dict(), **{'dictionary.queues': torch.ones(2)})
    checkpoint = training_checkpoint(tmp_path / 'extra.pth', state_dict)
    check_checkpoints(runner, config_of(runner, load_from=checkpoint))
    with pytest.raises(UserError, match='holds 1 weights the model lacks, e.g. dict'):
        check_checkpoints(runner, config_of(runner, load_from=checkpoint, resume=True))


def test_resume_from_missing_file_is_a_missing_file_error(runner, tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(MissingFileError, match=f'--resume\\) {missing} does not'):
        check_checkpoints(runner, config_of(runner, load_from=missing, resume=True))


class RecordingHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_auto_resume_follows_last_checkpoint(runner, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    # check_checkpoints reads only the Runner's model and work directory.
    runner_in_work_dir = SimpleNamespace(model=runner.model, work_dir=str(work_dir))
    cfg = config_of(runner, load_from=None, resume=True)

    # The Runner's logger writes to the stream it was created with.
    handler = RecordingHandler()
    MMLogger.get_current_instance().addHandler(handler)
    try:
        check_checkpoints(runner_in_work_dir, cfg)
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert handler.messages == [
        f'--resume (resume=True) found no last_checkpoint in {work_dir}, '
        'so training starts from the first epoch'
    ]

    pointer = work_dir / 'last_checkpoint'
    pointer.write_text(str(work_dir / 'epoch_3.pth'))
    with pytest.raises(MissingFileError, match='epoch_3.pth.*does not exist'):
        check_checkpoints(runner_in_work_dir, cfg)

    torch.save(runner.model.state_dict(), work_dir / 'epoch_3.pth')
    with pytest.raises(UserError, match='Cannot resume from .*epoch_3.pth: it lacks'):
        check_checkpoints(runner_in_work_dir, cfg)


def test_a_missing_pretrained_backbone_file_names_the_key_and_the_remedy(tmp_path):
    from clad_mm.apis.checkpoint_checks import require_pretrained_files

    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/clad/efficientnet_lite0_synbg_clad.py')
    )
    cfg.model.backbone.init_cfg.checkpoint = str(
        tmp_path / 'efficientnet_lite0_in1k.pth'
    )
    with pytest.raises(MissingFileError) as raised:
        require_pretrained_files(cfg)
    message = str(raised.value)
    assert 'model.backbone.init_cfg.checkpoint' in message
    assert (
        'efficientnet_lite0_in1k.pth' in message
        and 'make pretrained-weights' in message
    )
    (tmp_path / 'efficientnet_lite0_in1k.pth').write_bytes(b'')
    require_pretrained_files(cfg)  # exists: reading it is MMEngine's part


def test_pretrained_files_in_init_cfg_lists_and_necks_are_checked_urls_are_not(
    tmp_path,
):
    from clad_mm.apis.checkpoint_checks import require_pretrained_files

    url = dict(type='Pretrained', checkpoint='https://example.org/w.pth')
    missing = dict(type='Pretrained', checkpoint=str(tmp_path / 'neck.pth'))
    cfg = Config(
        dict(
            model=dict(
                backbone=dict(init_cfg=url),
                neck=dict(init_cfg=[dict(type='Constant', val=0), missing]),
            )
        )
    )
    with pytest.raises(
        MissingFileError, match=r'model\.neck\.init_cfg\[1\]\.checkpoint'
    ):
        require_pretrained_files(cfg)
    cfg.model.neck.init_cfg = [dict(type='Constant', val=0)]
    require_pretrained_files(cfg)
