"""Bad checkpoints given to tools/test.py and tools/train.py end in one line
that names the file: status 1, no traceback, nothing loaded or run."""

import os
import os.path as osp

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from tiny_data import make_tiny_synbg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
TINY_MODEL = (
    'model = dict(backbone=dict(stem_channels={stem}, base_channels=8),\n'
    '             head=dict(in_channels=64))\n'
)


class ShellCommand:
    """Pickles to a call of ``os.system`` (what a malicious checkpoint holds)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class GlobalsGadget:
    """Pickles to ``getattr(HistoryBuffer.min, '__globals__')``."""

    def __reduce__(self):
        return getattr, (HistoryBuffer.min, '__globals__')


def tiny_config(folder, stem, data_root):
    path = folder / f'tiny_stem{stem}.py'
    path.write_text(
        f'_base_ = [{BASELINE_CONFIG!r}]\n'
        + TINY_MODEL.format(stem=stem)
        + f'train_dataloader = dict(batch_size=4, num_workers=0,\n'
        f'    dataset=dict(data_root={data_root!r}))\n'
        f'val_dataloader = dict(num_workers=0,\n'
        f'    dataset=dict(data_root={data_root + "/test_set"!r}))\n'
        f'test_dataloader = val_dataloader\n'
        'train_cfg = dict(max_epochs=1)\n'
    )
    return str(path)


def training_checkpoint(path, model):
    """What CheckpointHook saves after one epoch of ``model``."""
    torch.save(
        dict(
            meta=dict(epoch=1, iter=1),
            state_dict=model.state_dict(),
            optimizer=dict(state={}, param_groups=[]),
            message_hub=dict(log_scalars={}, runtime_info={}, resumed_keys={}),
        ),
        path,
    )
    return str(path)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """Tiny SynBG, the tiny config, and checkpoints of it and of another net."""
    from mmpretrain.apis import get_model

    root = tmp_path_factory.mktemp('checkpoint_errors')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root)
    config = tiny_config(root, 8, data_root)
    model = get_model(config)
    own = training_checkpoint(root / 'own.pth', model)
    bare = root / 'bare.pth'
    torch.save(model.state_dict(), bare)
    # The same network with a 16-channel stem.
    other = training_checkpoint(
        root / 'other_arch.pth', get_model(tiny_config(root, 16, data_root))
    )
    return dict(root=root, config=config, own=own, bare=str(bare), other=other)


def bad_checkpoint(kind, folder, own_checkpoint):
    path = folder / f'{kind}.pth'
    if kind == 'truncated':
        whole = open(own_checkpoint, 'rb').read()
        path.write_bytes(whole[: len(whole) // 2])
    elif kind == 'random_bytes':
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == 'empty':
        path.write_bytes(b'')
    elif kind == 'non_dict':
        torch.save([torch.zeros(3)], path)
    elif kind == 'malicious':
        marker = folder / 'pwned'
        torch.save({'state_dict': {}, 'meta': ShellCommand(f'touch {marker}')}, path)
    elif kind == 'getattr_gadget':
        torch.save({'state_dict': {}, 'meta': GlobalsGadget()}, path)
    return str(path)


@pytest.mark.parametrize(
    'kind, stated',
    [
        ('truncated', 'is not a PyTorch checkpoint (it starts as a zip archive'),
        ('random_bytes', 'is not a PyTorch checkpoint (neither the zip archive'),
        ('empty', 'is not a PyTorch checkpoint (the file is empty)'),
        ('non_dict', 'holds a list of 1 items, but a checkpoint must be a dict'),
        ('malicious', 'holds objects outside the allowlist'),
        ('getattr_gadget', 'holds objects outside the allowlist'),
    ],
)
def test_test_tool_refuses_bad_checkpoint(workspace, run_cli, tmp_path, kind, stated):
    checkpoint = bad_checkpoint(kind, tmp_path, workspace['own'])
    work_dir = tmp_path / 'work'

    result = run_cli('test.py', workspace['config'], checkpoint, '--work-dir', work_dir)

    result.assert_user_error(f'test.py: error: {checkpoint} {stated}')
    if kind in ('malicious', 'getattr_gadget'):
        assert 'may be unsafe and was not loaded' in result.error_line
        assert 'weights_only' not in result.stderr
    assert not (tmp_path / 'pwned').exists()
    # It stopped before a Runner was built (a Runner creates the work dir).
    assert not work_dir.exists()


def run_train(run_cli, workspace, work_dir, *args):
    return run_cli(
        'train.py',
        workspace['config'],
        '--work-dir',
        work_dir,
        *args,
        subprocess_run=True,
    )


def test_train_resume_from_bare_state_dict_is_refused(workspace, run_cli, tmp_path):
    bare = workspace['bare']
    result = run_train(run_cli, workspace, tmp_path, '--resume', bare)
    result.assert_user_error(
        f'train.py: error: Cannot resume from {bare}: it lacks state_dict, '
        'meta.epoch, meta.iter, optimizer, message_hub',
        'set load_from without --resume',
    )
    assert not list(tmp_path.glob('epoch_*.pth'))


def test_train_auto_resume_from_other_architecture_is_refused(
    workspace, run_cli, tmp_path
):
    other = workspace['other']
    (tmp_path / 'last_checkpoint').write_text(other)
    result = run_train(run_cli, workspace, tmp_path, '--resume')
    result.assert_user_error(
        f'train.py: error: Cannot resume: Checkpoint {other} does not fit the '
        f'model of config {workspace["config"]}',
        'backbone.conv1.weight: (16, 3, 7, 7) in the checkpoint, (8, 3, 7, 7) in '
        'the model',
    )
    assert not list(tmp_path.glob('epoch_*.pth'))


def test_train_load_from_misfit_is_refused(workspace, run_cli, tmp_path):
    other = workspace['other']
    result = run_train(
        run_cli, workspace, tmp_path, '--cfg-options', f'load_from={other}'
    )
    result.assert_user_error(
        f'train.py: error: load_from: Checkpoint {other} does not fit the model',
        "model.backbone.init_cfg=dict(type='Pretrained'",
    )
    assert not list(tmp_path.glob('epoch_*.pth'))
