"""Tests of clad_mm.compat and clad_mm.utils.checkpoint_io: scoped safe
checkpoint loading, atomic checkpoint saving, pkg_resources-free lookups."""

import builtins
import os
import os.path as osp
import pickle
import pickletools
import shutil
import sys
import zipfile

import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

import clad_mm  # noqa: F401
from clad_mm.compat import get_installed_path, is_installed
from clad_mm.utils.checkpoint_io import (
    history_buffer_statistic,
    load_from_local_safely,
    runner_checkpoint_globals,
)
from clad_mm.utils.errors import MissingFileError, UserError


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


class GlobalsGadget:
    """Pickles to ``getattr(getattr(HistoryBuffer, 'min'), '__globals__')``.

    With ``builtins.getattr`` allowlisted, loading it hands the file the
    globals of mmengine's history_buffer module (and through them ``np``,
    ``warnings``, ...), under ``weights_only=True``.
    """

    def __reduce__(self):
        return getattr, (HistoryBuffer.min, '__globals__')


def pickled_globals(checkpoint_path):
    """The ``module.name`` of every GLOBAL in a checkpoint's pickle."""
    with zipfile.ZipFile(checkpoint_path) as archive:
        (pickle_name,) = [n for n in archive.namelist() if n.endswith('data.pkl')]
        data = archive.read(pickle_name)
    # Protocol 2 writes builtins as __builtin__ (as torch reads them back).
    return {
        argument.replace(' ', '.').replace('__builtin__.', 'builtins.')
        for opcode, argument, _ in pickletools.genops(data)
        if opcode.name == 'GLOBAL'
    }


def test_bare_torch_load_does_not_see_the_allowlist(runner_checkpoint):
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(runner_checkpoint)  # weights_only defaults to True
    checkpoint = load_from_local_safely(str(runner_checkpoint))
    assert set(checkpoint) >= {'meta', 'state_dict', 'message_hub', 'optimizer'}
    history = checkpoint['message_hub']['log_scalars']['train/loss']
    assert len(history.data[0]) == 2  # 8 samples, batches of 4
    # The allowlist was extended only while loading.
    assert HistoryBuffer not in torch.serialization.get_safe_globals()


def test_saved_runner_checkpoint_names_no_function_but_numpy_constructors(
    runner_checkpoint,
):
    assert pickled_globals(runner_checkpoint) == {
        '_codecs.encode',
        'collections.OrderedDict',
        'mmengine.logging.history_buffer.HistoryBuffer',
        'numpy.dtype',
        'numpy.ndarray',
        'numpy._core.multiarray._reconstruct',
        'numpy._core.multiarray.scalar',
        'torch.FloatStorage',
        'torch._utils._rebuild_tensor_v2',
    }


def test_allowlist_holds_no_general_purpose_callable():
    entries = runner_checkpoint_globals()
    objects = [entry[0] if isinstance(entry, tuple) else entry for entry in entries]
    assert getattr not in objects
    assert not [obj for obj in objects if getattr(obj, '__module__', '') == 'builtins']
    builtin_objects = list(vars(builtins).values())
    assert not [obj for obj in objects if any(obj is b for b in builtin_objects)]
    assert {getattr(obj, '__module__', None) for obj in objects} == {
        'mmengine.logging.history_buffer',
        'numpy',
        'numpy._core.multiarray',
        'numpy.dtypes',
        'clad_mm.utils.checkpoint_io',
    }
    # The one builtins name resolves to the narrow stand-in.
    names = {entry[1]: entry[0] for entry in entries if isinstance(entry, tuple)}
    assert names['builtins.getattr'] is history_buffer_statistic
    assert history_buffer_statistic(HistoryBuffer, 'min') is HistoryBuffer.min
    for owner, name in [
        (HistoryBuffer, '__init__'),
        (HistoryBuffer, 'update'),
        (HistoryBuffer.min, '__globals__'),
        (os, 'system'),
    ]:
        with pytest.raises(pickle.UnpicklingError, match='is refused'):
            history_buffer_statistic(owner, name)


def mmengine_getstate(self):
    """``HistoryBuffer.__getstate__`` of mmengine 0.10 (pickles functions)."""
    self.__dict__.update(statistics_methods=self._statistics_methods)
    return self.__dict__


def test_checkpoint_of_older_code_with_getattr_still_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(HistoryBuffer, '__getstate__', mmengine_getstate)
    old_checkpoint = tmp_path / 'old.pth'
    buffer = HistoryBuffer([1.0, 3.0], [1, 1])
    torch.save(
        {'state_dict': {}, 'message_hub': {'log_scalars': {'loss': buffer}}},
        old_checkpoint,
    )
    assert 'builtins.getattr' in pickled_globals(old_checkpoint)
    monkeypatch.undo()

    loaded = load_from_local_safely(str(old_checkpoint))
    history = loaded['message_hub']['log_scalars']['loss']
    assert history.statistics('mean') == 2.0
    assert history.statistics('min') == 1.0


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
    checkpoint = load_from_local_safely(str(numpy1_checkpoint))
    assert checkpoint['meta']['epoch'] == 1
    assert checkpoint['message_hub']['runtime_info']['max_epochs'] == 1


@pytest.mark.parametrize('loader', ['torch.load', 'mmengine.load_checkpoint'])
def test_malicious_checkpoint_is_refused_and_nothing_runs(tmp_path, loader):
    marker = tmp_path / 'pwned'
    malicious = tmp_path / 'malicious.pth'
    torch.save({'state_dict': {}, 'meta': ShellCommand(f'touch {marker}')}, malicious)
    assert 'posix.system' in pickled_globals(malicious)
    if loader == 'torch.load':
        with pytest.raises(pickle.UnpicklingError, match='system'):
            torch.load(malicious)
    else:
        with pytest.raises(UserError) as error:
            load_checkpoint(TinyRegressor(), str(malicious))
        message = str(error.value)
        assert message.startswith(f'{malicious} holds objects outside the allowlist')
        assert 'posix.system' in message and 'may be unsafe' in message
        assert 'weights_only' not in message
    assert not marker.exists()


def test_getattr_gadget_was_accepted_before_and_is_refused_now(tmp_path):
    gadget = tmp_path / 'gadget.pth'
    torch.save({'state_dict': {}, 'meta': GlobalsGadget()}, gadget)
    assert 'builtins.getattr' in pickled_globals(gadget)
    # What the old global allowlist held: getattr (and HistoryBuffer).
    with torch.serialization.safe_globals([getattr, HistoryBuffer]):
        leaked = torch.load(gadget)['meta']
    assert leaked['np'] is np and leaked['__name__'] == HistoryBuffer.__module__

    with pytest.raises(UserError) as error:
        load_from_local_safely(str(gadget))
    message = str(error.value)
    assert message.startswith(f'{gadget} holds objects outside the allowlist')
    assert "'__globals__') is refused" in message
    assert 'weights_only' not in message
    with pytest.raises(pickle.UnpicklingError):
        torch.load(gadget)


class UnlistedClass:
    pass


def test_weights_only_not_disabled_globally(tmp_path):
    path = tmp_path / 'unlisted.pth'
    torch.save({'state_dict': {}, 'meta': UnlistedClass()}, path)
    with pytest.raises(pickle.UnpicklingError, match='UnlistedClass'):
        torch.load(path)
    with pytest.raises(UserError, match='UnlistedClass'):
        load_from_local_safely(str(path))


@pytest.mark.parametrize(
    'content, problem',
    [
        (b'', 'the file is empty'),
        (b'\x00\x01 not a checkpoint' * 50, 'neither the zip archive nor the legacy'),
        (None, 'it starts as a zip archive but has no end record'),
    ],
    ids=['empty', 'random_bytes', 'truncated'],
)
def test_unreadable_file_is_not_a_pytorch_checkpoint(
    runner_checkpoint, tmp_path, content, problem
):
    path = tmp_path / 'bad.pth'
    if content is None:
        whole = runner_checkpoint.read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(UserError) as error:
        load_from_local_safely(str(path))
    assert str(error.value).startswith(f'{path} is not a PyTorch checkpoint ({problem}')


@pytest.mark.parametrize(
    'obj, held',
    [
        ([torch.zeros(2)], 'a list of 1 items'),
        (torch.zeros(2, 3), 'a tensor of shape (2, 3)'),
    ],
)
def test_non_dict_file_names_what_it_holds(tmp_path, obj, held):
    path = tmp_path / 'not_a_dict.pth'
    torch.save(obj, path)
    with pytest.raises(UserError) as error:
        load_from_local_safely(str(path))
    assert str(error.value).startswith(f'{path} holds {held}, but a checkpoint must')


def test_missing_file_is_a_missing_file_error(tmp_path):
    with pytest.raises(MissingFileError, match='nope.pth does not exist'):
        load_checkpoint(TinyRegressor(), str(tmp_path / 'nope.pth'))


def half_writing_open(target, real_open=builtins.open):
    """``open`` that writes half of what goes to files named like ``target``."""

    class HalfWriter:
        def __init__(self, file):
            self.file = file

        def write(self, data):
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise OSError(f'simulated crash while writing {self.file.name}')

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.file.close()

    def open_(file, mode='r', *args, **kwargs):
        opened = real_open(file, mode, *args, **kwargs)
        if 'w' in mode and target in osp.basename(str(file)):
            return HalfWriter(opened)
        return opened

    return open_


@pytest.mark.parametrize('crashing_file', ['epoch_2.pth', 'last_checkpoint'])
def test_crash_while_saving_keeps_previous_checkpoint_and_pointer(
    runner_checkpoint, tmp_path, monkeypatch, crashing_file
):
    work_dir = tmp_path / 'work'
    shutil.copytree(runner_checkpoint.parent, work_dir)
    pointer = work_dir / 'last_checkpoint'
    pointer.write_text(str(work_dir / 'epoch_1.pth'))
    runner = make_runner(work_dir, max_epochs=2, resume=True)
    monkeypatch.setattr(builtins, 'open', half_writing_open(crashing_file))
    with pytest.raises(OSError, match='simulated crash'):
        runner.train()
    monkeypatch.undo()

    assert pointer.read_text() == str(work_dir / 'epoch_1.pth')
    assert load_from_local_safely(str(work_dir / 'epoch_1.pth'))['meta']['epoch'] == 1
    if crashing_file == 'epoch_2.pth':
        assert not (work_dir / 'epoch_2.pth').exists()
    else:
        assert (
            load_from_local_safely(str(work_dir / 'epoch_2.pth'))['meta']['epoch'] == 2
        )
    # The writers removed their temporaries.
    assert not [p.name for p in work_dir.iterdir() if p.name.startswith('.')]


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
