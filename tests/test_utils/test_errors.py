import subprocess
import sys

import pytest
import torch

from clad_mm.utils.errors import (
    MissingFileError,
    OutputExistsError,
    UserError,
    user_message,
)


class _FailingDataset(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        raise MissingFileError(f'data/train/cat/{index}.png: no such image file')


def test_subclasses_are_the_builtin_exceptions_callers_catch():
    assert isinstance(MissingFileError('x'), FileNotFoundError)
    assert isinstance(OutputExistsError('x'), FileExistsError)
    assert isinstance(UserError('x'), ValueError)


def test_message_of_a_dataloader_worker_error_is_the_raised_sentence():
    loader = torch.utils.data.DataLoader(_FailingDataset(), num_workers=1)
    with pytest.raises(MissingFileError) as caught:
        next(iter(loader))
    assert 'Traceback' in str(caught.value)
    assert user_message(caught.value) == 'data/train/cat/0.png: no such image file'


_TOOL = """
import sys
sys.path.append({tools!r})
from tool_utils import run_tool
from clad_mm.utils.errors import UserError, MissingFileError

def main():
    raise {error}

run_tool(main)
"""


@pytest.mark.parametrize(
    'error, status, expected',
    [
        ("MissingFileError('cfg.py: no such file')", 1, 'error: cfg.py: no such file'),
        ('KeyboardInterrupt()', 130, 'interrupted'),
    ],
)
def test_run_tool_prints_one_line_and_exits(tmp_path, error, status, expected):
    script = tmp_path / 'tool.py'
    script.write_text(_TOOL.format(tools='tools', error=error))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True
    )
    assert result.returncode == status
    assert result.stderr.strip().splitlines()[-1] == f'tool.py: {expected}'
    assert 'Traceback' not in result.stderr


def test_run_tool_keeps_the_traceback_of_defects_and_under_debug(tmp_path):
    script = tmp_path / 'tool.py'
    for error, env in (
        ("RuntimeError('bug')", {}),
        ("UserError('x')", {'CLAD_MM_DEBUG': '1'}),
    ):
        script.write_text(_TOOL.format(tools='tools', error=error))
        result = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env={**__import__('os').environ, **env},
        )
        assert result.returncode == 1
        assert 'Traceback (most recent call last)' in result.stderr
