"""Argument and config helpers shared by the tools in ``tools/``.

Tools outside ``tools/`` itself (``tools/analysis``, ``tools/data``) put
``tools/`` on ``sys.path`` before importing this module.
"""

import argparse
import os
import os.path as osp
import sys
import time
from collections.abc import Iterable

import torch

from clad_mm.utils.errors import (
    DEBUG_VARIABLE,
    OutputExistsError,
    UserError,
    user_message,
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
    """
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
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
    try:
        summary = generate(**kwargs)
    except UserError:
        raise
    except ValueError as error:
        # The generators check their parameters with ValueError.
        raise UserError(str(error)) from error
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
