"""Train a model with MMPretrain's Runner, with clad_mm's components loaded.

The arguments are MMPretrain's ``tools/train.py`` ones. Differences that make
it work on today's stack and on CPU-only machines:

* ``clad_mm`` is imported first (registers components, applies the fixes of
  :mod:`clad_mm.compat`), so ``mmpretrain::`` bases and checkpoint resumes
  work on torch >= 2.6 and setuptools >= 82.
* ``persistent_workers`` and ``pin_memory`` are only switched on where they
  are valid (workers > 0; a CUDA device), so ``num_workers=0`` works.
* ``--amp`` on a machine without a supported accelerator stops with a
  message instead of an assertion trace.
* A ``load_from`` checkpoint that does not fit the model, or a ``--resume``
  checkpoint that training did not save or that another model saved, is
  refused before training (:func:`clad_mm.apis.check_checkpoints`).
"""

import argparse
import os

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# Python puts this script's folder, tools/, first on sys.path.
from tool_utils import (
    ConfigOptionsAction,
    add_run_checks_hook,
    apply_launcher_and_work_dir,
    check_config_keys,
    load_config,
    merge_config_options,
    registry_errors_named,
    require_writable_work_dir,
    run_tool,
    set_dataloader_defaults,
)

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.apis import check_checkpoints
from clad_mm.visualization import add_result_plots_hook


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from the '
        'latest checkpoint in the work directory',
    )
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision'
    )
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training',
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual over the base batch size',
    )
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in dataloaders',
    )
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in dataloaders',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=ConfigOptionsAction,
        help='override config settings, e.g. '
        'train_dataloader.dataset.data_root=data/synbg; a list is given as '
        'key="[a,b]" or key=a,b, without white space',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.amp and not amp_device_available():
        parser.error(
            '--amp needs a CUDA, NPU, MLU or MUSA device, and none is available '
            'on this machine; train without --amp'
        )
    return args


def amp_device_available() -> bool:
    """Whether mmengine's AmpOptimWrapper can run here."""
    from mmengine.device import (
        is_cuda_available,
        is_mlu_available,
        is_musa_available,
        is_npu_available,
    )

    return (
        is_cuda_available()
        or is_npu_available()
        or is_mlu_available()
        or is_musa_available()
    )


def merge_args(cfg, args):
    """Merges command-line arguments into the config."""
    # Options first, so that flags such as --no-validate have the last word.
    if args.cfg_options is not None:
        merge_config_options(cfg, args.cfg_options, args.config)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    apply_launcher_and_work_dir(cfg, args.launcher, args.work_dir, args.config)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_dataloader_defaults(
            cfg,
            field,
            pin_memory=not args.no_pin_memory,
            persistent_workers=not args.no_persistent_workers,
        )
    return cfg


def main():
    args = parse_args()
    cfg = load_config(args.config)
    check_config_keys(cfg, args.config)
    cfg = merge_args(cfg, args)
    add_run_checks_hook(cfg)
    add_result_plots_hook(cfg)
    require_writable_work_dir(cfg.work_dir)
    with registry_errors_named(args.config):
        if 'runner_type' in cfg:
            runner = RUNNERS.build(cfg)
        else:
            runner = Runner.from_cfg(cfg)
        check_checkpoints(runner, cfg)
        runner.train()


if __name__ == '__main__':
    run_tool(main)
