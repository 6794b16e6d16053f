"""Argument and config helpers shared by the tools in ``tools/``.

Tools outside ``tools/`` itself (``tools/analysis``, ``tools/data``) put
``tools/`` on ``sys.path`` before importing this module.
"""

import argparse
import difflib
import inspect
import os
import os.path as osp
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable
from contextlib import contextmanager

import torch
from mmengine.config import Config, DictAction

from clad_mm.utils.errors import (
    DEBUG_VARIABLE,
    MissingFileError,
    OutputExistsError,
    UserError,
    user_message,
)

_REGISTRY_MISS = re.compile(r'^(\S+) is not in the (\S+) registry')
_UNKNOWN_ARGUMENT = re.compile(
    r"^(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'$"
)
_MISSING_ARGUMENT = re.compile(
    r'^(\w+)\.__init__\(\) missing \d+ required (?:positional |keyword-only )?'
    r'arguments?: (.+)$'
)


def run_tool(main, *args) -> None:
    """Runs a tool's ``main``, stating a user mistake in one line.

    A :class:`~clad_mm.utils.errors.UserError` ends the program with exit
    status 1 and ``<tool>: error: <message>`` on stderr, without a
    traceback (set ``CLAD_MM_DEBUG=1`` to get one); an interruption ends it
    with status 130 and one line. Any other exception is a defect and keeps
    its traceback.

    Args:
        main (Callable): The tool's entry point.
        *args: Its arguments.
    """
    tool = osp.basename(sys.argv[0]) or 'clad_mm'
    debug = os.environ.get(DEBUG_VARIABLE, '') not in ('', '0')
    try:
        main(*args)
    except UserError as error:
        if debug:
            raise
        print(f'{tool}: error: {user_message(error)}', file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f'{tool}: interrupted', file=sys.stderr)
        sys.exit(130)


def add_overwrite_argument(parser, outputs: str) -> None:
    """Adds ``--overwrite``, the permission :func:`require_new_output` asks.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        outputs (str): What it replaces, for the help, e.g. ``'--out'``.
    """
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help=f'replace {outputs} if it exists (refused otherwise)',
    )


def require_new_output(
    paths: str | Iterable[str], overwrite: bool, flag: str = '--overwrite'
) -> None:
    """Refuses to replace a file the user named unless asked to.

    Every tool that writes a path given on its command line calls this
    before any work, so that a mistyped path never costs an earlier result.
    Files a tool writes inside its own run folder (a timestamped log dir) are
    not the user's and need no such check.

    Args:
        paths (str | Iterable[str]): The output file(s) the user named.
        overwrite (bool): The user asked for existing files to be replaced.
        flag (str): The option that asks for it, for the message.

    Raises:
        OutputExistsError: Naming the existing paths, unless ``overwrite``.
    """
    if overwrite:
        return
    paths = [paths] if isinstance(paths, str) else list(paths)
    existing = [path for path in paths if osp.lexists(path)]
    if existing:
        raise OutputExistsError(
            f'{", ".join(existing)} already exist{"s" if len(existing) == 1 else ""}'
            f'; pass {flag} to replace {"it" if len(existing) == 1 else "them"} '
            'or choose another output path'
        )


def apply_launcher_and_work_dir(cfg, launcher: str, work_dir, config_path: str):
    """Sets the launcher and the work dir as MMPretrain's tools do.

    Args:
        cfg (Config): The config to edit in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        work_dir (str, optional): The ``--work-dir`` argument; when None, the
            config's ``work_dir`` or ``./work_dirs/<config name>``.
        config_path (str): Path of the config file.

    Raises:
        UserError: If a distributed run on CPU asks for ``sync_bn``.
    """
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        if cfg.get('sync_bn') is not None:
            # torch's SyncBatchNorm only runs on GPU (its first forward on a
            # CPU tensor raises deep inside DDP).
            raise UserError(
                f"sync_bn={cfg.sync_bn!r} needs GPUs (torch's SyncBatchNorm runs "
                'only on CUDA tensors), but this distributed run is on CPU; drop '
                'sync_bn (each rank then keeps its own BatchNorm statistics and '
                "the checkpoint holds rank 0's)"
            )
        # NCCL (MMPretrain's default) needs GPUs, and DDP takes no device ids
        # for a CPU module; gloo runs on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False
        )
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        config_name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', config_name)


def set_dataloader_defaults(
    cfg, field: str, pin_memory: bool = True, persistent_workers: bool = True
):
    """Fills MMPretrain's dataloader defaults where they are valid.

    ``pin_memory`` only helps (and only stays quiet) with a CUDA device, and
    ``persistent_workers`` is an error without workers, so each is switched
    on only where it is valid.

    Args:
        cfg (Config): The config to edit in place.
        field (str): E.g. ``'train_dataloader'``; nothing happens if absent.
        pin_memory (bool): False forces ``pin_memory`` off.
        persistent_workers (bool): False forces ``persistent_workers`` off.
    """
    dataloader = cfg.get(field)
    if dataloader is None:
        return
    dataloader.setdefault('collate_fn', dict(type='default_collate'))
    dataloader.setdefault('pin_memory', torch.cuda.is_available())
    dataloader.setdefault('persistent_workers', True)
    if not pin_memory:
        dataloader.pin_memory = False
    if not persistent_workers or dataloader.get('num_workers', 0) == 0:
        dataloader.persistent_workers = False


def add_model_analysis_arguments(parser, analysis_name: str) -> None:
    """Adds the arguments every model-analysis tool shares.

    ``config`` and ``checkpoint`` (positional), ``--data-root``,
    ``--work-dir`` and ``--device``; check them with
    :func:`check_model_analysis_arguments` after parsing.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        analysis_name (str): Folder name of the default work dir,
            ``work_dirs/<config name>/<analysis_name>``.
    """
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--data-root',
        help="test root holding one folder per split (default: the config's "
        'test_dataloader.dataset.data_root)',
    )
    parser.add_argument(
        '--work-dir',
        help='folder for the results (default: '
        f'work_dirs/<config name>/{analysis_name})',
    )
    parser.add_argument(
        '--device', help='cpu, cuda, cuda:1, ... (default: cuda if available)'
    )


def check_model_analysis_arguments(parser, args, analysis_name: str) -> None:
    """Checks the shared arguments and fills in the defaults that need them.

    Stops with ``parser.error`` on a checkpoint that is neither a file nor a
    URL, or a CUDA device without CUDA. Sets ``args.device`` (cuda when
    available) and ``args.work_dir`` when they were not given.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        args (argparse.Namespace): The parsed arguments.
        analysis_name (str): As given to :func:`add_model_analysis_arguments`.
    """
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        parser.error(f'checkpoint {args.checkpoint!r} is not a file')
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    elif args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device is available')
    if args.work_dir is None:
        config_name = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join('work_dirs', config_name, analysis_name)


def positive_int(text: str) -> int:
    """``argparse`` type of counts that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'expected a positive integer, got {text}')
    return value


def synthetic_set_parser(
    description: str, correlation_flag: str, correlation_default: float, help: str
) -> argparse.ArgumentParser:
    """The command line of a synthetic data set generator (SynBG and variants).

    Args:
        description (str): The tool's description.
        correlation_flag (str): Option of the label-cue correlation, e.g.
            ``'--background-correlation'``.
        correlation_default (float): Its default.
        help (str): Its help text.

    Returns:
        argparse.ArgumentParser: With ``out_dir``, ``--image-size``,
        ``--train-per-class``, ``--test-per-class``, ``--seed``, the
        correlation option and ``--overwrite``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('out_dir', help='folder to write the data set into')
    parser.add_argument(
        '--image-size', type=int, default=64, help='side of the square images'
    )
    parser.add_argument(
        '--train-per-class', type=int, default=250, help='training images per class'
    )
    parser.add_argument(
        '--test-per-class',
        type=int,
        default=75,
        help='test images per class in every test split',
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        correlation_flag, type=float, default=correlation_default, help=help
    )
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='remove the files an earlier run of this generator wrote into '
        'OUT_DIR (as its journal lists them) and generate anew; other files '
        "stay, and files of others in the set's folders stop the run",
    )
    return parser


def generate_synthetic_set(set_name: str, generate, **kwargs) -> None:
    """Runs a generator, reporting what it wrote or that nothing was needed.

    Args:
        set_name (str): The data set's name in the report, e.g. ``'SynBG'``.
        generate (Callable): The generator, e.g. ``generate_synbg``; it
            returns a summary with ``num_train``, ``num_test`` and
            ``generated``.
        **kwargs: Its arguments, ``out_dir`` included.

    Raises:
        UserError: For an argument out of range (the generator's
            ``ValueError``) or an output folder it may not write
            (:class:`~clad_mm.utils.errors.OutputExistsError`).
    """
    start = time.perf_counter()
    summary = generate(**kwargs)
    counts = f'{summary["num_train"]} train / {summary["num_test"]} test images'
    out_dir = kwargs['out_dir']
    if summary['generated']:
        seconds = time.perf_counter() - start
        print(f'Wrote {set_name} ({counts}) to {out_dir} in {seconds:.1f} s')
    else:
        print(
            f'{out_dir} already holds a complete {set_name} set ({counts}) '
            'with these parameters; nothing to do'
        )


#: Top-level keys that MMPretrain's tools and models read besides the
#: Runner's (known, but no typo is matched against them: ``train_pipeline``
#: is a common variable close to ``tta_pipeline``).
TOOL_CONFIG_KEYS = frozenset({'tta_model', 'tta_pipeline', 'gallery_dataloader'})


def runner_config_keys() -> frozenset[str]:
    """The top-level config keys that MMEngine's Runner reads.

    Returns:
        frozenset[str]: ``Runner``'s arguments (``train_cfg``, ...),
        ``model_wrapper_cfg``, ``runner_type`` and the keys it reads from
        the config directly (``sync_bn``, ...).
    """
    # Imported here: the data tools use this module without a Runner.
    from mmengine.runner import Runner

    arguments = inspect.signature(Runner.__init__).parameters
    return frozenset(name for name in arguments if name not in ('self', 'cfg')) | {
        'activation_checkpointing',
        'efficient_conv_bn_eval',
        'model_wrapper_cfg',
        'runner_type',
        'sync_bn',
    }


def load_config(path: str) -> Config:
    """Reads a config file, stating a missing file or a Python error in it.

    Args:
        path (str): The config file.

    Returns:
        Config: The config.

    Raises:
        MissingFileError: If the file (or a ``_base_`` file) does not exist.
        UserError: If executing the file fails (a syntax error, a name
            error, ...); the message names the file and the line.
    """
    if not osp.isfile(path):
        if osp.isdir(path):
            raise MissingFileError(f'config {path} is a folder, not a file')
        raise MissingFileError(f'config {path}: no such file')
    try:
        return Config.fromfile(path)
    except FileNotFoundError as error:
        raise MissingFileError(f'config {path} cannot be loaded: {error}') from error
    except Exception as error:  # the config is the user's Python code
        raise UserError(
            f'config {path} cannot be loaded: {_describe_config_error(error)}'
        ) from error


def _describe_config_error(error: Exception) -> str:
    """The exception of a config file, with the line it happened at."""
    for cause in (error, error.__context__, error.__cause__):
        if isinstance(cause, SyntaxError) and cause.lineno is not None:
            return f'{type(cause).__name__} at line {cause.lineno}: {cause.msg}'
    # MMEngine executes a copy of the file with the same lines; the
    # innermost frame outside the installed packages is the config's.
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if 'site-packages' not in frame.filename
        and not frame.filename.startswith(sys.prefix)
        and osp.abspath(frame.filename) != osp.abspath(__file__)
    ]
    line = f' at line {frames[-1].lineno}' if frames else ''
    return f'{type(error).__name__}{line}: {error}'


def check_config_keys(cfg, path: str) -> None:
    """Refuses a top-level key that is a near miss of a Runner key.

    A config may define its own variables (``data_root``,
    ``train_pipeline``, ...), but ``trian_cfg`` is a typo that the Runner
    would ignore, running with its defaults instead.

    Args:
        cfg (Config): The config.
        path (str): Its file, for the message.

    Raises:
        UserError: Naming the key and the Runner key it resembles.
    """
    runner_keys = runner_config_keys()
    for key in cfg.keys():
        if key in runner_keys or key in TOOL_CONFIG_KEYS:
            continue
        close = difflib.get_close_matches(key, runner_keys, n=1, cutoff=0.8)
        if close:
            raise UserError(
                f'config {path} has the top-level key {key!r}, which nothing '
                f'reads; did you mean {close[0]!r}? (rename it if it is a '
                'variable of yours)'
            )


class ConfigOptionsAction(DictAction):
    """MMEngine's ``DictAction``, refusing an item without ``=``.

    MMEngine's action fails on such an item with a traceback; this one stops
    with an argparse error (status 2) naming the item.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values or ():
            if '=' not in item:
                parser.error(
                    f'{option_string} {item!r}: expected KEY=VALUE, e.g. '
                    'train_cfg.max_epochs=2'
                )
        super().__call__(parser, namespace, values, option_string)


def merge_config_options(cfg, options: dict, path: str) -> None:
    """Merges ``--cfg-options`` into the config, refusing unknown keys.

    A key whose top level is neither in the config nor a Runner key would
    add a setting that nothing reads.

    Args:
        cfg (Config): The config to edit in place.
        options (dict): The parsed ``--cfg-options``.
        path (str): The config file, for the message.

    Raises:
        UserError: Naming the option and the closest top-level key.
    """
    known = set(cfg.keys()) | runner_config_keys() | TOOL_CONFIG_KEYS
    for key in options:
        top = key.split('.')[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=1, cutoff=0.6)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise UserError(
                f'--cfg-options {key}: config {path} has no top-level key {top!r}{hint}'
            )
    cfg.merge_from_dict(options)


def require_writable_work_dir(work_dir: str) -> None:
    """Creates the work dir and checks that files can be written in it.

    Args:
        work_dir (str): The run's work directory.

    Raises:
        UserError: If it cannot be created or is not writable.
    """
    try:
        os.makedirs(work_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=work_dir):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise UserError(
            f'work dir {work_dir} cannot be created or written to ({reason}); '
            'choose another --work-dir'
        ) from error


def add_run_checks_hook(cfg) -> None:
    """Adds :class:`~clad_mm.engine.hooks.RunChecksHook` unless present.

    Args:
        cfg (Config): The config to edit in place.
    """
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(str(hook.get('type', '')).endswith('RunChecksHook') for hook in hooks):
        hooks.append(dict(type='RunChecksHook'))
    cfg.custom_hooks = hooks


@contextmanager
def registry_errors_named(config_path: str):
    """States a config's unknown ``type`` or argument as a user mistake.

    MMEngine's registry raises a ``KeyError`` when a config names an
    unknown type, and the built class a ``TypeError`` when a config dict
    holds an argument it does not take (``num_clases``) or lacks one it
    needs; inside this context
    both become a :class:`~clad_mm.utils.errors.UserError` naming the type
    or argument and the config.

    Args:
        config_path (str): The config file, for the message.

    Raises:
        UserError: For a registry miss, or an unknown argument passed by the
            registry itself; other errors pass unchanged.
    """
    try:
        yield
    except KeyError as error:
        message = error.args[0] if error.args else ''
        match = _REGISTRY_MISS.match(message) if isinstance(message, str) else None
        if match is None:
            raise
        raise UserError(
            f"config {config_path}: type='{match.group(1)}' is not in the "
            f'{match.group(2)} registry (misspelt, or its module not imported '
            'by custom_imports)'
        ) from error
    except TypeError as error:
        unknown = _UNKNOWN_ARGUMENT.match(str(error))
        missing = _MISSING_ARGUMENT.match(str(error))
        if not (unknown or missing) or not _raised_by_registry_call(error):
            raise
        if unknown:
            raise UserError(
                f'config {config_path}: {unknown.group(1)} takes no argument '
                f'{unknown.group(2)!r} (a misspelt key of its dict?)'
            ) from error
        raise UserError(
            f'config {config_path}: {missing.group(1)} needs the argument(s) '
            f'{missing.group(2)} in its dict'
        ) from error


def _raised_by_registry_call(error: TypeError) -> bool:
    """Whether the registry's call of a class from config keys raised it.

    True when the innermost frames after MMEngine's ``build_from_cfg`` are
    ``__init__`` methods only (a class passing ``**kwargs`` on to its base);
    the same error from inside a method is a defect.
    """
    frames = traceback.extract_tb(error.__traceback__)
    registry_file = osp.join('mmengine', 'registry', 'build_functions.py')
    calls = [
        i for i, frame in enumerate(frames) if frame.filename.endswith(registry_file)
    ]
    return bool(calls) and all(
        frame.name == '__init__' for frame in frames[calls[-1] + 1 :]
    )
