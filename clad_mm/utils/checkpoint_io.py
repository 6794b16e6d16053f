"""Safe loading and atomic writing of checkpoints.

Loading stays ``torch.load(..., weights_only=True)``. An MMEngine Runner
checkpoint holds a few non-tensor objects besides its weights (the message
hub's ``HistoryBuffer`` logs, which are numpy arrays and scalars), so
:func:`load_from_local_safely` allows exactly those, and only while it
loads (:func:`runner_checkpoint_allowlist`, a context); every other
``torch.load`` in the process keeps torch's own allowlist. The allowlist
holds no general-purpose callable: checkpoints written by mmengine before
:mod:`clad_mm.compat` stopped pickling functions name ``builtins.getattr``
(for ``HistoryBuffer.min`` and its siblings), and that name is resolved to
:func:`history_buffer_statistic`, which returns those four methods and
refuses every other lookup (``getattr(function, '__globals__')`` would hand
a crafted file a module's globals).

A file that cannot be loaded is a :class:`~clad_mm.utils.errors.UserError`
naming it: missing, empty, truncated or not a PyTorch file at all, holding
objects outside the allowlist (possibly unsafe; not loaded), or holding
something other than a dict.

:func:`open_for_atomic_write` is the ``open`` that
:func:`clad_mm.compat.make_checkpoint_saving_atomic` gives MMEngine's
``CheckpointHook`` for its ``last_checkpoint`` pointer.
"""

import contextlib
import io
import os.path as osp
import pickle
import zipfile

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from .errors import MissingFileError, UserError
from .fileio import write_atomically

#: The statistics methods that ``HistoryBuffer`` registers for itself; an
#: old Runner checkpoint pickles them as ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_STATISTICS = ('current', 'max', 'mean', 'min')
# What torch.save writes first in its legacy (pre-1.6, non-zip) format: the
# pickled torch.serialization.MAGIC_NUMBER.
_LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)
_ZIP_LOCAL_HEADER = b'PK\x03\x04'
# Numeric numpy dtypes: a logged value or count may be any of them.
_NUMERIC_TYPE_CODES = '?bhilqBHILQefd'


def history_buffer_statistic(owner, name: str):
    """What ``builtins.getattr`` means in a Runner checkpoint, and no more.

    mmengine's ``HistoryBuffer`` pickles its statistics methods, which
    pickle writes as ``getattr(HistoryBuffer, 'min')``. This stands in for
    ``getattr`` while a checkpoint loads.

    Args:
        owner: The object ``getattr`` was applied to in the pickle.
        name (str): The attribute name.

    Returns:
        Callable: ``getattr(HistoryBuffer, name)`` for a name of
        :data:`HISTORY_BUFFER_STATISTICS`.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    owner_name = getattr(owner, '__qualname__', type(owner).__name__)
    raise pickle.UnpicklingError(
        f'getattr({owner_name}, {name!r}) is refused: only HistoryBuffer '
        f'statistics methods {HISTORY_BUFFER_STATISTICS} may be looked up'
    )


def runner_checkpoint_globals() -> list:
    """The globals an MMEngine Runner checkpoint pickles besides tensors.

    Returns:
        list: Entries for :func:`torch.serialization.safe_globals`: objects,
        or ``(object, 'module.name')`` pairs: the names numpy 1.x writes
        (``numpy.core``; numpy 2.x moved it to ``numpy._core``) and
        ``builtins.getattr``, resolved to :func:`history_buffer_statistic`.
    """
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    allowed = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        *sorted(
            {type(np.dtype(code)) for code in _NUMERIC_TYPE_CODES},
            key=lambda dtype_class: dtype_class.__name__,
        ),
        (history_buffer_statistic, 'builtins.getattr'),
    ]
    for name in ('_reconstruct', 'scalar'):
        function = getattr(multiarray, name)
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            allowed.append((function, f'{module}.{name}'))
    return allowed


@contextlib.contextmanager
def runner_checkpoint_allowlist():
    """Allows :func:`runner_checkpoint_globals` to ``torch.load`` inside.

    The allowlist is torch's process-wide one, extended for the duration of
    the ``with`` block only.
    """
    with torch.serialization.safe_globals(runner_checkpoint_globals()):
        yield


def _format_problem(filename: str) -> str | None:
    """Why a file is not a PyTorch checkpoint, or None if it may be one."""
    with open(filename, 'rb') as file:
        start = file.read(len(_LEGACY_MAGIC))
    if not start:
        return 'the file is empty'
    if start.startswith(_ZIP_LOCAL_HEADER):
        if not zipfile.is_zipfile(filename):
            return (
                'it starts as a zip archive but has no end record: truncated '
                'or not completely written'
            )
        return None
    if start == _LEGACY_MAGIC:
        return None
    return 'neither the zip archive nor the legacy pickle format of torch.save'


def _describe(obj) -> str:
    if isinstance(obj, torch.Tensor):
        return f'a tensor of shape {tuple(obj.shape)}'
    if isinstance(obj, (list, tuple)):
        return f'a {type(obj).__name__} of {len(obj)} items'
    return f'a {type(obj).__name__}'


def load_from_local_safely(filename: str, map_location=None) -> dict:
    """Loads a local checkpoint file with the Runner checkpoint allowlist.

    This is MMEngine's ``CheckpointLoader`` for local paths (prefix ``''``;
    registered by :mod:`clad_mm.compat`), so ``load_from``, ``--resume``,
    ``mmengine.runner.load_checkpoint`` and :mod:`clad_mm.apis` go through
    it.

    Args:
        filename (str): The checkpoint file (``~`` is expanded).
        map_location (optional): As for :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint: a Runner checkpoint or a state dict.

    Raises:
        MissingFileError: If the file does not exist.
        UserError: Naming the file, if it is not a PyTorch checkpoint (empty,
            truncated, other bytes), holds objects outside the allowlist
            (it may be unsafe and is not loaded), or holds no dict.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise MissingFileError(f'Checkpoint {filename} does not exist')
    problem = _format_problem(filename)
    if problem is not None:
        raise UserError(f'{filename} is not a PyTorch checkpoint ({problem})')
    try:
        with runner_checkpoint_allowlist():
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=True
            )
    except pickle.UnpicklingError as error:
        # torch wraps the unpickler's reason in advice to turn safe loading
        # off; only the reason is stated.
        reason = str(error.__context__ or error).split('. Please')[0].rstrip('.')
        raise UserError(
            f'{filename} holds objects outside the allowlist of checkpoint '
            f'loading ({reason}), so it may be unsafe and was not loaded; '
            'expected tensors, MMEngine Runner state and numeric numpy data'
        ) from None
    except (RuntimeError, EOFError, KeyError) as error:
        # The reader's own messages on damaged archives and pickles.
        raise UserError(
            f'{filename} is not a PyTorch checkpoint (it cannot be read: '
            f'{str(error).split(". ")[0] or type(error).__name__})'
        ) from None
    if not isinstance(checkpoint, dict):
        raise UserError(
            f'{filename} holds {_describe(checkpoint)}, but a checkpoint must '
            'be a dict (a Runner checkpoint with state_dict, or a state dict)'
        )
    return checkpoint


class _AtomicTextFile(io.StringIO):
    """A text file that reaches its path, whole, when it is closed.

    Nothing is written if the ``with`` block that uses it raises.
    """

    def __init__(self, path: str, encoding: str):
        super().__init__()
        self.path = path
        self.text_encoding = encoding
        self.failed = False

    def __exit__(self, error_type, error, traceback):
        self.failed = error_type is not None
        return super().__exit__(error_type, error, traceback)

    def close(self) -> None:
        if not self.closed and not self.failed:
            write_atomically(self.path, self.getvalue().encode(self.text_encoding))
        super().close()


def open_for_atomic_write(file, mode: str = 'r', *args, encoding=None, **kwargs):
    """``open``, except that text written in a ``with`` block is atomic.

    For mode ``'w'`` the text is collected and written with
    :func:`~clad_mm.utils.fileio.write_atomically` when the ``with`` block
    ends without an error; every other mode is the built-in ``open``.

    Args:
        file (str): The path.
        mode (str): As for :func:`open`. Defaults to ``'r'``.
        *args: Passed on to :func:`open`.
        encoding (str, optional): Text encoding. Defaults to UTF-8 for
            atomic writes.
        **kwargs: Passed on to :func:`open`.

    Returns:
        A file object (a context manager).
    """
    if mode == 'w' and not args and not kwargs:
        return _AtomicTextFile(str(file), encoding or 'utf-8')
    # direct-write: any other mode is the hook's own open, left as it was.
    return open(file, mode, *args, encoding=encoding, **kwargs)
