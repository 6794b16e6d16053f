"""Compatibility fixes for the stack clad_mm runs on.

mmengine 0.10 and MMPretrain 1.2 meet torch 2.6+ and setuptools 82+, and
run on machines without GPUs; three fixes are applied by
:func:`apply_compat_fixes` when ``clad_mm`` is imported:

* **Safe checkpoint loading.** Since torch 2.6, ``torch.load`` defaults to
  ``weights_only=True``, which refuses the few non-tensor globals that an
  MMEngine ``Runner`` checkpoint holds (its message hub keeps
  ``HistoryBuffer`` objects of numpy arrays). Instead of turning safe
  loading off, exactly those globals are added to torch's allowlist, so
  every other global (``os.system``, arbitrary classes, ...) is still refused.
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

import numpy as np
import torch


def runner_checkpoint_globals() -> list:
    """Globals that an MMEngine Runner checkpoint pickles besides tensors.

    Returns:
        list: Entries for :func:`torch.serialization.add_safe_globals`:
        objects, or ``(object, 'module.name')`` pairs for names written by
        numpy 1.x (``numpy.core``), which numpy 2.x moved to ``numpy._core``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    allowed = [
        HistoryBuffer,
        getattr,
        np.ndarray,
        np.dtype,
        np.dtypes.Float64DType,
        np.dtypes.Int64DType,
        multiarray._reconstruct,
        multiarray.scalar,
    ]
    for name in ('_reconstruct', 'scalar'):
        function = getattr(multiarray, name)
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            allowed.append((function, f'{module}.{name}'))
    return allowed


def allow_runner_checkpoints() -> None:
    """Allowlists the globals of MMEngine Runner checkpoints for torch.load."""
    torch.serialization.add_safe_globals(runner_checkpoint_globals())


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
    allow_runner_checkpoints()
    replace_pkg_resources_lookups()
    allow_cpu_process_groups()
