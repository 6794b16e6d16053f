"""Test (and evaluate) a model, with clad_mm's components loaded.

The arguments are MMPretrain's ``tools/test.py`` ones. On a Background
Challenge test config (``BGChallengeMetric``) every split of the test root is
evaluated in one run; the per-split table and BG-GAP are printed and written
as JSON and as a bar chart (PNG) beside the run's log. On a retrieval config
(``DMLRetrievalMetric``) the clean and background-replaced MAP@R, P@1,
R-Precision and Recall@K are printed as a table and written as
``retrieval.json`` beside the log; on a group-robustness config
(``GroupAccuracyMetric``) the per-group table is printed and written as
``group.json``. ``--out FILE`` never
replaces an existing file unless ``--overwrite`` is given, and is checked
before anything is built; every result file is written atomically. A
checkpoint whose tensors do not fit the config's model (e.g. another number
of classes) is refused before testing, instead of being tested with a random
head.
"""

import argparse
import os
import os.path as osp
from copy import deepcopy

import mmengine
from mmengine.config import ConfigDict
from mmengine.evaluator import DumpResults
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# Python puts this script's folder, tools/, first on sys.path.
from tool_utils import (
    ConfigOptionsAction,
    add_overwrite_argument,
    add_run_checks_hook,
    apply_launcher_and_work_dir,
    check_config_keys,
    load_config,
    merge_config_options,
    registry_errors_named,
    require_new_output,
    require_writable_work_dir,
    run_tool,
    set_dataloader_defaults,
)

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.apis import read_checkpoint, require_checkpoint_fits
from clad_mm.evaluation import format_split_table
from clad_mm.evaluation.metrics import format_group_table, format_retrieval_table
from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import write_atomically, write_json_atomically
from clad_mm.visualization import add_result_plots_hook, plot_split_accuracies

# What mmengine.dump can write, by extension: predictions only as a pickle.
METRICS_FORMATS = ('json', 'yaml', 'yml', 'pkl', 'pickle')
PREDICTIONS_FORMATS = ('pkl', 'pickle')


class AtomicDumpResults(DumpResults):
    """MMEngine's ``DumpResults``, writing its pickle atomically.

    A test killed while the predictions are written leaves the earlier file
    (or none), never a truncated pickle.
    """

    def compute_metrics(self, results: list) -> dict:
        """Writes the predictions to ``out_file_path``.

        Args:
            results (list): The predictions of every sample.

        Returns:
            dict: Empty: dumping computes no metric.
        """
        dump_atomically(results, self.out_file_path)
        print_log(f'Predictions written to {self.out_file_path}', logger='current')
        return {}


def dump_atomically(obj, path: str) -> None:
    """Writes ``obj`` as ``mmengine.dump`` would, atomically.

    Args:
        obj: What to write.
        path (str): Destination; its extension (``.json``, ``.yaml``,
            ``.pkl``, ...) picks the format.
    """
    file_format = osp.splitext(path)[1][1:].lower()
    write_atomically(path, mmengine.dump(obj, file_format=file_format))


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the directory to save the evaluation metrics in'
    )
    parser.add_argument('--out', help='the file to output results to')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='whether --out gets the metrics or the predictions (default: predictions)',
    )
    add_overwrite_argument(parser, '--out')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=ConfigOptionsAction,
        help='override config settings, e.g. '
        'test_dataloader.dataset.data_root=data/bg_challenge',
    )
    parser.add_argument(
        '--amp', action='store_true', help='enable mixed-precision test'
    )
    parser.add_argument(
        '--show-dir', help='directory to save the visualized predictions in'
    )
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window'
    )
    parser.add_argument(
        '--interval', type=int, default=1, help='visualize every N-th sample'
    )
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds to show each window'
    )
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in the dataloader',
    )
    parser.add_argument(
        '--tta',
        action='store_true',
        help="test-time augmentation: the config's tta_pipeline/tta_model, or "
        'flip TTA averaging the classification scores',
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
    if args.tta and (args.show or args.show_dir is not None):
        # MMPretrain's VisualizationHook cannot draw the stacked TTA views.
        parser.error('--show/--show-dir cannot be combined with --tta')
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out (the file to write to)')
    if args.out is not None:
        formats = METRICS_FORMATS if args.out_item == 'metrics' else PREDICTIONS_FORMATS
        extension = osp.splitext(args.out)[1][1:].lower()
        if extension not in formats:
            parser.error(
                f'--out {args.out}: the {args.out_item or "pred"} item is written as '
                f'{"/".join("." + name for name in formats)}, not {extension!r}'
            )
        # Before anything is built, so that a refusal costs nothing.
        require_new_output(args.out, args.overwrite)
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        parser.error(f'checkpoint {args.checkpoint!r} is not a file')
    return args


def add_flip_tta(cfg):
    """Wraps the model and test pipeline for test-time augmentation."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[
                [
                    dict(type='RandomFlip', prob=1.0),
                    dict(type='RandomFlip', prob=0.0),
                ],
                [test_pipeline[-1]],
            ],
        )
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def merge_args(cfg, args):
    """Merges command-line arguments into the config."""
    apply_launcher_and_work_dir(cfg, args.launcher, args.work_dir, args.config)
    cfg.load_from = args.checkpoint

    if args.amp:
        cfg.test_cfg.fp16 = True

    if args.show or args.show_dir is not None:
        if 'visualization' not in cfg.default_hooks:
            raise UserError(
                f'--show/--show-dir need default_hooks.visualization='
                f"dict(type='VisualizationHook') in the config {args.config}"
            )
        visualization = cfg.default_hooks.visualization
        visualization.enable = True
        visualization.show = args.show
        visualization.wait_time = args.wait_time
        visualization.out_dir = args.show_dir
        visualization.interval = args.interval

    if args.tta:
        add_flip_tta(cfg)

    if args.cfg_options is not None:
        merge_config_options(cfg, args.cfg_options, args.config)

    set_dataloader_defaults(cfg, 'test_dataloader', pin_memory=not args.no_pin_memory)
    return cfg


def main():
    args = parse_args()
    cfg = load_config(args.config)
    check_config_keys(cfg, args.config)
    cfg = merge_args(cfg, args)
    add_run_checks_hook(cfg)
    add_result_plots_hook(cfg)
    # Read first: an unreadable or refused file stops before the Runner starts.
    state_dict, _ = read_checkpoint(args.checkpoint)
    require_writable_work_dir(cfg.work_dir)
    with registry_errors_named(args.config):
        if 'runner_type' in cfg:
            runner = RUNNERS.build(cfg)
        else:
            runner = Runner.from_cfg(cfg)
    require_checkpoint_fits(runner.model, state_dict, args.checkpoint, args.config)

    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(AtomicDumpResults(out_file_path=args.out))

    with registry_errors_named(args.config):
        metrics = runner.test()

    if args.out and args.out_item == 'metrics':
        dump_atomically(metrics, args.out)
    if runner.rank == 0 and any(k.startswith('bg_challenge/') for k in metrics):
        results_path = osp.join(runner.log_dir, 'bg_challenge.json')
        write_json_atomically(
            results_path,
            dict(config=args.config, checkpoint=args.checkpoint, **metrics),
            indent=2,
        )
        plot_path = plot_split_accuracies(
            metrics,
            osp.join(runner.log_dir, 'bg_challenge.png'),
            title=osp.splitext(osp.basename(args.config))[0],
        )
        print(format_split_table(metrics))
        print(f'Results written to {results_path} and {plot_path}')
    if runner.rank == 0 and any(k.startswith('group/') for k in metrics):
        results_path = osp.join(runner.log_dir, 'group.json')
        write_json_atomically(
            results_path,
            dict(config=args.config, checkpoint=args.checkpoint, **metrics),
            indent=2,
        )
        num_groups = sum(k.startswith('group/num_images/group_') for k in metrics)
        group_names = runner.test_dataloader.dataset.metainfo.get('group_names') or [
            f'group {index}' for index in range(num_groups)
        ]
        print(format_group_table(metrics, group_names))
        print(f'Results written to {results_path}')
    if runner.rank == 0 and any(k.startswith('retrieval/') for k in metrics):
        results_path = osp.join(runner.log_dir, 'retrieval.json')
        write_json_atomically(
            results_path,
            dict(config=args.config, checkpoint=args.checkpoint, **metrics),
            indent=2,
        )
        print(format_retrieval_table(metrics))
        print(f'Results written to {results_path}')


if __name__ == '__main__':
    run_tool(main)
