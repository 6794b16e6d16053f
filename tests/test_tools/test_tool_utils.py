"""tools/tool_utils.py: the argument and config helpers the tools share."""

import argparse
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

from clad_mm.utils.errors import MissingFileError, UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool_utils():
    path = osp.join(REPO_ROOT, 'tools', 'tool_utils.py')
    spec = importlib.util.spec_from_file_location('tool_utils', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool_utils = _load_tool_utils()


def test_positive_int_accepts_counts_and_names_a_bad_value():
    assert tool_utils.positive_int('3') == 3
    with pytest.raises(argparse.ArgumentTypeError, match='positive integer, got 0'):
        tool_utils.positive_int('0')


def test_dataloader_defaults_switch_off_what_is_invalid():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=0),
            test_dataloader=dict(num_workers=2, pin_memory=True),
        )
    )
    tool_utils.set_dataloader_defaults(cfg, 'train_dataloader')
    tool_utils.set_dataloader_defaults(cfg, 'test_dataloader', pin_memory=False)
    tool_utils.set_dataloader_defaults(cfg, 'val_dataloader')
    # Persistent workers need workers; a forced pin_memory=False wins.
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')
    assert cfg.test_dataloader.persistent_workers is True
    assert cfg.test_dataloader.pin_memory is False
    assert 'val_dataloader' not in cfg


def test_model_analysis_arguments_refuse_a_missing_checkpoint(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    tool_utils.add_model_analysis_arguments(parser, 'consistency')
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'')
    args = parser.parse_args(['configs/x/model.py', str(checkpoint), '--device', 'cpu'])
    tool_utils.check_model_analysis_arguments(parser, args, 'consistency')
    assert args.work_dir == osp.join('work_dirs', 'model', 'consistency')

    args = parser.parse_args(['configs/x/model.py', str(tmp_path / 'missing.pth')])
    with pytest.raises(SystemExit):
        tool_utils.check_model_analysis_arguments(parser, args, 'consistency')
    assert 'missing.pth' in capsys.readouterr().err


def _raise(error):
    def main():
        raise error

    return main


@pytest.mark.parametrize(
    'error, status, expected',
    [
        (MissingFileError('cfg.py: no such file'), 1, 'error: cfg.py: no such file'),
        (KeyboardInterrupt(), 130, 'interrupted'),
    ],
)
def test_run_tool_prints_one_line_and_exits(
    monkeypatch, capsys, error, status, expected
):
    monkeypatch.setattr('sys.argv', ['tools/tool.py'])
    monkeypatch.delenv('CLAD_MM_DEBUG', raising=False)
    with pytest.raises(SystemExit) as exited:
        tool_utils.run_tool(_raise(error))
    assert exited.value.code == status
    assert capsys.readouterr().err == f'tool.py: {expected}\n'


def test_run_tool_lets_defects_and_debugged_mistakes_raise(monkeypatch):
    # An exception that leaves run_tool ends the program with its traceback.
    monkeypatch.delenv('CLAD_MM_DEBUG', raising=False)
    with pytest.raises(RuntimeError, match='bug'):
        tool_utils.run_tool(_raise(RuntimeError('bug')))
    monkeypatch.setenv('CLAD_MM_DEBUG', '1')
    with pytest.raises(UserError, match='x'):
        tool_utils.run_tool(_raise(UserError('x')))
