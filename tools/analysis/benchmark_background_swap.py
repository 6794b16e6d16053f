"""Measures the data-loading cost of CLAD's positive sample.

Runs, side by side on the same images and in one process, plain loading
(``LoadImageFromFile`` + ``RandomResizedCrop`` + flip + ``PackInputs``) and
the CLAD pipeline (load + ``LoadForegroundMask`` + ``BackgroundSwap`` with
hard and with soft pasting + ``TwoViewPipeline`` of the same crop and flip +
``PackInputs``), and prints samples per second, the time of every stage and
the ratio of the CLAD pipeline's time per sample to plain loading's. A CLAD
sample is the anchor and its positive, i.e. two network inputs.

Example::

    python tools/analysis/benchmark_background_swap.py --out swap_bench.json

generates a SynBG set at 224 px in a temporary folder; ``--data-root``
measures a CLAD-layout training root instead (``original/``, ``fg_mask/`` or
``fg_grabcut/`` and ``only_bg_t/``). OpenCV runs single-threaded, as in
mmengine's data-loading workers, so the numbers are per worker process.
Every pipeline first runs once untimed on a few samples, then ``--rounds``
timed passes alternate between the pipelines, so that disk caches and clock
drift affect them alike.
"""

import argparse
import os.path as osp
import sys
import tempfile
import time
from collections import defaultdict

import cv2
import numpy as np
import torch
from mmengine.utils import ProgressBar

try:
    import clad_mm  # noqa: F401  (registers the components)
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpretrain.registry import TRANSFORMS

from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.datasets import BGChallengeTrainDataset
from clad_mm.utils.fileio import write_json_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool

_WARMUP_SAMPLES = 10


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Compare plain image loading with the CLAD pipeline '
        '(foreground mask, background swap, two augmented views).'
    )
    parser.add_argument(
        '--data-root',
        help='CLAD-layout training root to read; by default a SynBG set is '
        'generated in a temporary folder',
    )
    parser.add_argument(
        '--split', default='train', help='sub-folder of every data folder'
    )
    parser.add_argument(
        '--image-size',
        type=int,
        default=224,
        help='side of the generated images and of the random crops',
    )
    parser.add_argument(
        '--train-per-class',
        type=int,
        default=40,
        help='images per class of the generated set',
    )
    parser.add_argument(
        '--num-samples',
        type=int,
        default=360,
        help='samples per timed pass (at most the data set size)',
    )
    parser.add_argument(
        '--rounds', type=int, default=3, help='timed passes per pipeline'
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--out', help='JSON file to write the results to')
    add_overwrite_argument(parser, '--out')
    args = parser.parse_args(argv)
    if args.out is not None:
        require_new_output(args.out, args.overwrite)
    return args


def build_pipelines(background_root: str, crop_size: int) -> dict:
    """The pipelines to compare, by name.

    Args:
        background_root (str): Class folders of ONLY-BG-T backgrounds.
        crop_size (int): Output side of ``RandomResizedCrop``.

    Returns:
        dict[str, list]: Built transforms of each pipeline.
    """
    augmentations = [
        dict(type='RandomResizedCrop', scale=crop_size),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    ]

    def clad(blend):
        return [
            dict(type='LoadImageFromFile'),
            dict(type='LoadForegroundMask'),
            dict(type='BackgroundSwap', background_root=background_root, blend=blend),
            dict(type='TwoViewPipeline', anchor_pipeline=augmentations),
            dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
        ]

    configs = {
        'plain': [
            dict(type='LoadImageFromFile'),
            *augmentations,
            dict(type='PackInputs'),
        ],
        'clad_hard': clad('hard'),
        'clad_soft': clad('soft'),
    }
    return {
        name: [TRANSFORMS.build(transform) for transform in config]
        for name, config in configs.items()
    }


def time_pass(transforms: list, data_infos: list, seed: int, progress=None):
    """Runs a pipeline over samples, timing each transform.

    Args:
        transforms (list): Built transforms, applied in order.
        data_infos (list[dict]): Data infos of the samples.
        seed (int): Seed of numpy's global generator, used by the transforms.
        progress (ProgressBar, optional): Advanced once per sample.

    Returns:
        dict[str, float]: Seconds spent in each transform, by class name.
    """
    np.random.seed(seed)
    seconds = defaultdict(float)
    for info in data_infos:
        results = dict(info)
        for transform in transforms:
            start = time.perf_counter()
            results = transform(results)
            seconds[type(transform).__name__] += time.perf_counter() - start
        if progress is not None:
            progress.update()
    return dict(seconds)


def run_benchmark(data_root: str, args: argparse.Namespace) -> dict:
    """Times every pipeline on the same samples of ``data_root``.

    Args:
        data_root (str): CLAD-layout training root.
        args (argparse.Namespace): The parsed options.

    Returns:
        dict: Settings, per-pipeline timings and the ratios to plain loading.
    """
    dataset = BGChallengeTrainDataset(
        data_root, split=args.split, background_dir=None, lazy_init=False
    )
    order = np.random.default_rng(args.seed).permutation(len(dataset))
    data_infos = [
        dataset.get_data_info(int(index)) for index in order[: args.num_samples]
    ]
    background_root = osp.join(data_root, 'only_bg_t', args.split)
    pipelines = build_pipelines(background_root, args.image_size)

    for transforms in pipelines.values():
        time_pass(transforms, data_infos[:_WARMUP_SAMPLES], args.seed)
    rounds = []
    progress = ProgressBar(args.rounds * len(pipelines) * len(data_infos))
    for round_index in range(args.rounds):
        rounds.append(
            {
                name: time_pass(
                    transforms, data_infos, args.seed + round_index, progress
                )
                for name, transforms in pipelines.items()
            }
        )
    print()

    num_timed = args.rounds * len(data_infos)
    results = {}
    for name in pipelines:
        stage_ms = {
            stage: 1e3 * sum(timing[name][stage] for timing in rounds) / num_timed
            for stage in rounds[0][name]
        }
        ms_per_sample = sum(stage_ms.values())
        results[name] = {
            'ms_per_sample': ms_per_sample,
            'samples_per_s': 1e3 / ms_per_sample,
            'stage_ms': stage_ms,
        }
    ratios = {}
    for name in pipelines:
        if name == 'plain':
            continue
        per_round = [
            sum(timing[name].values()) / sum(timing['plain'].values())
            for timing in rounds
        ]
        ratios[name] = {
            'mean': results[name]['ms_per_sample'] / results['plain']['ms_per_sample'],
            'per_round': per_round,
        }
    first = data_infos[0]
    image_height, image_width = cv2.imread(first['img_path']).shape[:2]
    return {
        'settings': {
            'data_root': data_root,
            'split': args.split,
            'num_samples': len(data_infos),
            'rounds': args.rounds,
            'crop_size': args.image_size,
            'first_image_size': [image_height, image_width],
            'mask_source': first['fg_mask_source'],
            'seed': args.seed,
            'opencv_threads': cv2.getNumThreads(),
            'torch_threads': torch.get_num_threads(),
        },
        'pipelines': results,
        'ratio_to_plain': ratios,
    }


def format_report(report: dict) -> str:
    """Readable tables of a benchmark report.

    Args:
        report (dict): As returned by :func:`run_benchmark`.

    Returns:
        str: The throughput table and the stage table.
    """
    pipelines = report['pipelines']
    ratios = report['ratio_to_plain']
    lines = [
        f'{"pipeline":<12}{"samples/s":>11}{"ms/sample":>11}{"ratio":>8}'
        '  ratio per round'
    ]
    for name, result in pipelines.items():
        if name in ratios:
            per_round = ', '.join(f'{v:.2f}' for v in ratios[name]['per_round'])
            ratio = f'{ratios[name]["mean"]:>8.2f}  {per_round}'
        else:
            ratio = f'{"1.00":>8}'
        lines.append(
            f'{name:<12}{result["samples_per_s"]:>11.1f}'
            f'{result["ms_per_sample"]:>11.3f}{ratio}'
        )
    lines += [
        "(ratio: time per sample over plain loading's; a CLAD sample is an "
        'anchor and its positive)',
        '',
        'ms per sample and stage',
        f'{"stage":<20}' + ''.join(f'{name:>12}' for name in pipelines),
    ]
    stages = dict.fromkeys(
        stage for result in pipelines.values() for stage in result['stage_ms']
    )
    for stage in stages:
        lines.append(
            f'{stage:<20}'
            + ''.join(
                f'{result["stage_ms"][stage]:>12.3f}'
                if stage in result['stage_ms']
                else f'{"-":>12}'
                for result in pipelines.values()
            )
        )
    return '\n'.join(lines)


def main(argv=None) -> None:
    """Runs the benchmark, prints the tables and writes the JSON report.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    # Data-loading workers run OpenCV single-threaded (mmengine's
    # set_multi_processing), so time it that way.
    cv2.setNumThreads(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as temporary_root:
        data_root = args.data_root
        if data_root is None:
            data_root = osp.join(temporary_root, 'synbg')
            print(
                f'Generating SynBG ({args.train_per_class} training images per '
                f'class, {args.image_size} px) in {data_root}'
            )
            generate_synbg(
                data_root,
                image_size=args.image_size,
                train_per_class=args.train_per_class,
                test_per_class=2,
                seed=args.seed,
            )
            print()
        report = run_benchmark(data_root, args)
    if args.data_root is None:
        report['settings']['data_root'] = (
            f'generated SynBG, {args.train_per_class} per class'
        )
    print(format_report(report))
    if args.out:
        write_json_atomically(args.out, report, indent=2)
        print(f'Wrote {args.out}')


if __name__ == '__main__':
    run_tool(main)
