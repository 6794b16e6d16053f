"""Fixtures shared by the test folders.

``run_cli`` runs a tool of ``tools/`` as a user would and returns its exit
status and output, so that a test of a user mistake can assert the status,
that no traceback is printed and that the message names the offending
thing.
"""

import dataclasses
import importlib.util
import itertools
import logging
import os
import os.path as osp
import subprocess
import sys

import pytest

_LOGGER_NAMES = (f'clad_mm_test_{index}' for index in itertools.count())


def pytest_configure(config):
    """Runs the suite, and every tool it starts, on one intra-op thread.

    ``make test`` runs two pytest workers on the build machine's two cores;
    with more threads than free cores, every batch-norm and convolution call
    waits for a descheduled OpenMP thread (a narrow CLAD step took 2.7 s on
    two threads of the loaded machine, 0.01 s on one). The subprocesses a
    test starts (the tools, torchrun) read ``OMP_NUM_THREADS``. No test
    checks a timing, so one thread loses nothing.
    """
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch

    torch.set_num_threads(1)


REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS_DIR = osp.join(REPO_ROOT, 'tools')


@dataclasses.dataclass
class CliResult:
    """What a tool run ended with.

    Attributes:
        status (int): Exit status.
        stdout (str): Standard output.
        stderr (str): Standard error.
    """

    status: int
    stdout: str
    stderr: str

    @property
    def error_line(self) -> str:
        """The last line of stderr: where a tool states a mistake."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ''

    def assert_user_error(self, *names: str, status: int = 1) -> None:
        """Asserts a one-line error, no traceback, naming every ``names``."""
        assert self.status == status, (self.status, self.stdout[-2000:], self.stderr)
        assert 'Traceback' not in self.stderr, self.stderr
        for name in names:
            assert name in self.error_line, (name, self.error_line)


def _load_tool(path: str):
    name = 'cli_' + osp.splitext(osp.relpath(path, TOOLS_DIR))[0].replace('/', '_')
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Runs ``tools/<tool>`` with arguments, as ``python tools/<tool>`` does.

    In-process by default (fast: through ``tool_utils.run_tool``, as the
    tool's ``__main__`` does); ``subprocess=True`` runs a fresh interpreter,
    which tools that start an MMEngine Runner need (its logger keeps the
    stream it was created with). ``env`` adds environment variables and
    ``cwd`` sets the working folder of a subprocess.

    Returns:
        Callable[..., CliResult]: ``run_cli('train.py', CONFIG, '--resume')``.
    """

    def run(tool, *args, subprocess_run=False, env=None, cwd=None, timeout=600):
        path = osp.join(TOOLS_DIR, tool)
        args = [str(arg) for arg in args]
        if subprocess_run:
            completed = subprocess.run(
                [sys.executable, path, *args],
                capture_output=True,
                text=True,
                cwd=cwd or REPO_ROOT,
                env={**os.environ, **(env or {})},
                timeout=timeout,
            )
            return CliResult(completed.returncode, completed.stdout, completed.stderr)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.syspath_prepend(TOOLS_DIR)
        module = _load_tool(path)
        from tool_utils import run_tool

        monkeypatch.setattr(sys, 'argv', [path, *args])
        status, message = 0, ''
        try:
            run_tool(module.main)
        except SystemExit as exit_:
            if isinstance(exit_.code, str):
                status, message = 1, exit_.code + '\n'
            else:
                status = exit_.code or 0
        captured = capsys.readouterr()
        return CliResult(status, captured.out, captured.err + message)

    return run


class _WarningRecorder(logging.Handler):
    """Collects the messages of warnings."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def logged_warnings():
    """The warnings that ``print_log(..., logger='current')`` writes.

    A new MMLogger becomes MMEngine's current logger for the test (a fresh
    name each time: only a newly created logger becomes the current one).

    Returns:
        list[str]: The warning messages, filled while the test runs.
    """
    from mmengine.logging import MMLogger

    logger = MMLogger.get_instance(next(_LOGGER_NAMES), log_level='WARNING')
    # Its console handler holds the stream of the moment, which pytest's
    # capture may close; the recorder is all the test needs.
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    recorder = _WarningRecorder()
    logger.addHandler(recorder)
    yield recorder.messages
    logger.removeHandler(recorder)
