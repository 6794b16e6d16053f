"""Tests of clad_mm.compat: safe checkpoint loading and pkg_resources-free lookups."""

import io
import os
import pickle
import sys
import zipfile

import mmengine
import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

import clad_mm  # noqa: F401
from clad_mm.compat import get_installed_path, is_installed


class TinyRegressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='tensor'):
        outputs = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return {'loss': ((outputs - targets) ** 2).mean()}
        return outputs


class PairsDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2,), float(index)), targets=torch.tensor(1.0))


def make_runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=TinyRegressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=PairsDataset(),
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume,
        default_scope='mmpretrain',
        randomness=dict(seed=0),
    )


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('runner')
    make_runner(work_dir, max_epochs=1).train()
    return work_dir / 'epoch_1.pth'


class ShellCommand:
    """Pickles to a call of ``os.system`` (what a malicious checkpoint holds)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_runner_checkpoint_loads_with_default_torch_load(runner_checkpoint):
    checkpoint = torch.load(runner_checkpoint)  # weights_only defaults to True
    assert set(checkpoint) >= {'meta', 'state_dict', 'message_hub', 'optimizer'}
    history = checkpoint['message_hub']['log_scalars']['train/loss']
    assert len(history.data[0]) > 0


def test_runner_resume_uses_safe_loading(runner_checkpoint, tmp_path):
    work_dir = runner_checkpoint.parent
    runner = make_runner(work_dir, max_epochs=2, resume=True)
    runner.train()
    assert runner.epoch == 2
    assert (work_dir / 'epoch_2.pth').exists()


def test_load_checkpoint_into_model(runner_checkpoint):
    model = TinyRegressor()
    nn.init.zeros_(model.linear.weight)
    load_checkpoint(model, str(runner_checkpoint))
    saved = torch.load(runner_checkpoint)['state_dict']['linear.weight']
    assert torch.equal(model.linear.weight, saved)


def rename_numpy_core_module(checkpoint_path, out_path):
    """Rewrites a checkpoint as numpy 1.x writes it (``numpy.core``)."""
    with zipfile.ZipFile(checkpoint_path) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    pickle_name = next(name for name in entries if name.endswith('data.pkl'))
    assert b'numpy._core.multiarray' in entries[pickle_name]
    entries[pickle_name] = entries[pickle_name].replace(
        b'numpy._core.multiarray', b'numpy.core.multiarray'
    )
    with zipfile.ZipFile(out_path, 'w', zipfile.ZIP_STORED) as target:
        for name, data in entries.items():
            target.writestr(name, data)


def test_numpy1_checkpoint_loads(runner_checkpoint, tmp_path):
    numpy1_checkpoint = tmp_path / 'numpy1.pth'
    rename_numpy_core_module(runner_checkpoint, numpy1_checkpoint)
    assert b'numpy.core.multiarray' in numpy1_checkpoint.read_bytes()
    checkpoint = torch.load(numpy1_checkpoint)
    assert 'message_hub' in checkpoint


@pytest.mark.parametrize('loader', ['torch.load', 'mmengine.load_checkpoint'])
def test_checkpoint_with_other_global_is_refused(tmp_path, loader):
    marker = tmp_path / 'pwned'
    malicious = tmp_path / 'malicious.pth'
    torch.save({'state_dict': {}, 'meta': ShellCommand(f'touch {marker}')}, malicious)
    assert b'system' in malicious.read_bytes()
    with pytest.raises(pickle.UnpicklingError, match='system'):
        if loader == 'torch.load':
            torch.load(malicious)
        else:
            load_checkpoint(TinyRegressor(), str(malicious))
    assert not marker.exists()


class UnlistedClass:
    pass


def test_weights_only_not_disabled_globally():
    buffer = io.BytesIO()
    torch.save({'state_dict': {}, 'meta': UnlistedClass()}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='UnlistedClass'):
        torch.load(buffer)


def test_mmpretrain_base_without_pkg_resources(tmp_path, monkeypatch):
    # None in sys.modules makes `import pkg_resources` raise ImportError, as
    # with setuptools >= 82.
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)
    with pytest.raises(ImportError):
        import pkg_resources  # noqa: F401
    config = tmp_path / 'uses_mmpretrain_base.py'
    config.write_text(
        "_base_ = ['mmpretrain::_base_/models/resnet18.py']\n"
        'model = dict(head=dict(num_classes=9))\n'
    )
    cfg = Config.fromfile(str(config))
    assert cfg.model.backbone.depth == 18
    assert cfg.model.head.num_classes == 9


def test_package_lookups_match_imports():
    import mmpretrain

    assert get_installed_path('mmpretrain') == os.path.dirname(mmpretrain.__file__)
    assert get_installed_path('mmengine') == os.path.dirname(mmengine.__file__)
    assert is_installed('mmcv-lite')
    assert is_installed('mmpretrain')
    assert not is_installed('no-such-package-clad-mm-test')
