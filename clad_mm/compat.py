"""Compatibility fixes for the stack clad_mm runs on.

mmengine 0.10 and MMPretrain 1.2 meet torch 2.6+ and setuptools 82+, and
run on machines without GPUs; these fixes are applied by
:func:`apply_compat_fixes` when ``clad_mm`` is imported:

* **Scoped safe checkpoint loading.** Since torch 2.6, ``torch.load``
  defaults to ``weights_only=True``, which refuses the few non-tensor
  globals that an MMEngine ``Runner`` checkpoint holds (its message hub
  keeps ``HistoryBuffer`` objects of numpy arrays). MMEngine's loader of
  local files (``CheckpointLoader`` prefix ``''``, which ``load_from``,
  ``resume``, ``load_checkpoint`` and MMPretrain's ``get_model`` use) is
  replaced by :func:`~clad_mm.utils.checkpoint_io.load_from_local_safely`,
  which allows exactly those globals (no general-purpose callable such as
  ``getattr``) while it loads and states a refused or unreadable file in
  one message. Torch's allowlist is not changed for any other
  ``torch.load``; remote schemes (``http://``, ...) keep MMEngine's loaders.
* **No functions in saved message hubs.** mmengine's
  ``HistoryBuffer.__getstate__`` adds its class-level ``statistics_methods``
  (``HistoryBuffer.min``, ...) to every pickled buffer, which pickle writes
  as ``builtins.getattr`` calls. Its state is saved without them (they are
  registered again by ``HistoryBuffer`` itself and by the modules defining
  custom statistics when imported), so new checkpoints name no callable
  but numpy's array constructors.
* **Atomic checkpoint saving.** ``save_checkpoint`` writes through
  ``LocalBackend.put`` and ``CheckpointHook`` writes ``last_checkpoint``
  with ``open``; ``LocalBackend.put``/``put_text`` become
  :func:`~clad_mm.utils.fileio.write_atomically` (a temporary beside the
  file, then ``os.replace``) and the hook's module gets
  :func:`~clad_mm.utils.checkpoint_io.open_for_atomic_write`, so a run
  killed while saving leaves the previous ``epoch_N.pth`` and
  ``last_checkpoint`` intact, never a truncated file or a pointer to one.
  Every other local write through mmengine's file backend
  (``mmengine.dump`` to a path, the logger hook's copies) becomes atomic
  with it.
* **pkg_resources-free package lookup.** mmengine 0.10.x resolves
  ``mmpretrain::`` config bases through ``pkg_resources``, which setuptools
  82 removed. The lookup helpers are replaced by ``importlib.metadata``
  equivalents with the same behaviour.
* **CPU process groups.** mmengine's ``pytorch`` launcher calls
  ``torch.cuda.set_device`` before creating the process group, which fails
  on a machine without GPUs; there the group is created without it, so
  ``torchrun`` with the ``gloo`` backend works on CPU.
"""

import importlib.metadata
import importlib.util
import os.path as osp

import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader

from .utils.checkpoint_io import load_from_local_safely, open_for_atomic_write
from .utils.fileio import write_atomically


def load_checkpoints_safely() -> None:
    """Makes MMEngine load local checkpoints with the scoped allowlist."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True
    )


def _history_buffer_state(self) -> dict:
    """``HistoryBuffer`` state without the (class-level) statistics methods."""
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def save_history_buffers_without_functions() -> None:
    """Keeps functions out of pickled ``HistoryBuffer`` objects."""
    HistoryBuffer.__getstate__ = _history_buffer_state


def _put_atomically(self, obj: bytes, filepath) -> None:
    """``LocalBackend.put`` through :func:`write_atomically`."""
    write_atomically(str(filepath), obj)


def _put_text_atomically(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
    """``LocalBackend.put_text`` through :func:`write_atomically`."""
    write_atomically(str(filepath), obj.encode(encoding))


def make_checkpoint_saving_atomic() -> None:
    """Makes checkpoints and ``last_checkpoint`` appear whole or not at all."""
    import mmengine.hooks.checkpoint_hook as checkpoint_hook

    LocalBackend.put = _put_atomically
    LocalBackend.put_text = _put_text_atomically
    # The hook's only use of ``open`` writes ``last_checkpoint``.
    checkpoint_hook.open = open_for_atomic_write


def _distribution_of(package: str):
    try:
        return importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def is_installed(package: str) -> bool:
    """Whether ``package`` is installed (``importlib.metadata`` version).

    Args:
        package (str): Distribution or module name.
    """
    if _distribution_of(package) is not None:
        return True
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None


def package2module(package: str) -> str:
    """Top-level module name of an installed distribution.

    Args:
        package (str): Distribution name, e.g. ``'mmcv-lite'``.
    """
    distribution = _distribution_of(package)
    if distribution is None:
        raise importlib.metadata.PackageNotFoundError(package)
    top_level = distribution.read_text('top_level.txt')
    if top_level:
        return top_level.split('\n')[0]
    raise ValueError(f'can not infer the module name of {package}')


def get_installed_path(package: str) -> str:
    """Installed folder of ``package`` (``importlib.metadata`` version).

    Args:
        package (str): Distribution or module name, e.g. ``'mmpretrain'``.
    """
    distribution = _distribution_of(package)
    if distribution is None:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise importlib.metadata.PackageNotFoundError(package)
        if spec.origin is None:
            raise RuntimeError(
                f'{package} is a namespace package, which is invalid '
                'for `get_install_path`'
            )
        return osp.dirname(spec.origin)
    # Editable installs have no files beside the metadata: ask the importer.
    spec = importlib.util.find_spec(package.replace('-', '_'))
    if spec is not None and spec.origin is not None:
        return osp.dirname(spec.origin)
    location = str(distribution.locate_file(''))
    possible_path = osp.join(location, package)
    if osp.exists(possible_path):
        return possible_path
    return osp.join(location, package2module(package))


def replace_pkg_resources_lookups() -> None:
    """Points mmengine's package helpers at the ``importlib`` versions."""
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils

    replacements = {
        'is_installed': is_installed,
        'get_installed_path': get_installed_path,
        'package2module': package2module,
    }
    for module in (package_utils, utils_module, config_module, hub_module):
        for name, function in replacements.items():
            if hasattr(module, name):
                setattr(module, name, function)


def allow_cpu_process_groups() -> None:
    """Lets mmengine's ``pytorch`` launcher start on machines without GPUs."""
    import mmengine.dist.utils as dist_utils

    launch_with_accelerator = (
        getattr(dist_utils._init_dist_pytorch, 'launch_with_accelerator', None)
        or dist_utils._init_dist_pytorch
    )

    def init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            launch_with_accelerator(backend, init_backend=init_backend, **kwargs)
        else:
            torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch.launch_with_accelerator = launch_with_accelerator
    dist_utils._init_dist_pytorch = init_dist_pytorch


def apply_compat_fixes() -> None:
    """Applies every fix of this module; safe to call more than once."""
    load_checkpoints_safely()
    save_history_buffers_without_functions()
    make_checkpoint_saving_atomic()
    replace_pkg_resources_lookups()
    allow_cpu_process_groups()
