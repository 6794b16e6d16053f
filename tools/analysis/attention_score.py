"""Attention scores of deep-metric-learning models (Kobs & Hotho, ICMV 2022, §6).

Example (the baseline against BGAugment on Stanford Online Products)::

    python tools/analysis/attention_score.py \\
        configs/bgaugment/resnet50_sop_contrastive.py base.pth \\
        configs/bgaugment/resnet50_sop_contrastive_bgaugment.py bgaugment.pth \\
        --names Base BGAugment --out-dir work_dirs/attention --max-images 1000

scores every clean test image of each config (its ``test_dataloader.dataset``
with ``background_draws=0``; ``--max-images`` keeps that many, evenly spaced
over the test set) and writes into ``--out-dir``:

- ``attention_scores.json``: the settings and, per model, its config,
  checkpoint, the mean and (population) standard deviation of the scores,
  ``count`` (images scored), ``nan_count`` (degenerate images, left out of
  the mean) and every image's ``{img_path, score}`` (``null`` for NaN);
- ``attention_grid.png``: one row per image (``--grid-images`` of them,
  evenly spaced, the same for every model), the image, then each model's
  attention map over it (the mask's outline in magenta, the model's name and
  score as title), with the colour scale of the maps.

A Markdown table of ``model | mean ± std | images`` is printed. Existing
outputs are kept unless ``--overwrite`` is given. The score is 1 when all
attention is on the object, 0 for attention spread like the object's area,
and negative when it is on the background; see
:mod:`clad_mm.analysis.attention_score` for the maths
(https://arxiv.org/abs/2210.01615).
"""

import argparse
import math
import os
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.utils import ProgressBar

try:
    import clad_mm  # noqa: F401  (registers the components, applies compat fixes)
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import clad_mm  # noqa: F401

from clad_mm.analysis.attention_score import (
    DEFAULT_COPIES,
    DEFAULT_NOISE_LEVEL,
    CleanTestSamples,
    load_retriever,
    score_attention,
)
from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import write_json_atomically
from clad_mm.visualization.agg_figure import agg_figure, save_figure_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import (
    add_overwrite_argument,
    load_config,
    positive_int,
    registry_errors_named,
    require_new_output,
    run_tool,
)

SCORES_FILE = 'attention_scores.json'
GRID_FILE = 'attention_grid.png'
# Grid layout: inches per image panel, and the mask outline's colour, which
# the jet colour map of the attention never takes.
_PANEL_INCHES = 2.2
_MASK_COLOUR = '#ff00ff'


def parse_args(argv=None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The options; ``models`` holds the
        ``(name, config, checkpoint)`` triples, ``scores_path`` and
        ``grid_path`` the output files.
    """
    parser = argparse.ArgumentParser(
        description='Score how much of the attention of deep-metric-learning '
        'models is on the object (Kobs & Hotho, ICMV 2022, section 6).'
    )
    parser.add_argument(
        'pairs',
        nargs='+',
        metavar='CONFIG CHECKPOINT',
        help='a config and its checkpoint, once per model, in column order',
    )
    parser.add_argument(
        '--names',
        nargs='+',
        help='model names, one per CONFIG CHECKPOINT pair (default: the '
        "configs' file names)",
    )
    parser.add_argument('--out-dir', required=True, help='folder of the outputs')
    parser.add_argument(
        '--max-images',
        type=positive_int,
        help='score this many test images, evenly spaced (default: all)',
    )
    parser.add_argument(
        '--grid-images', type=positive_int, default=6, help='rows of the grid'
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the noise')
    parser.add_argument(
        '--n-samples',
        type=positive_int,
        default=DEFAULT_COPIES,
        help='noisy copies per image',
    )
    parser.add_argument(
        '--noise-level',
        type=float,
        default=DEFAULT_NOISE_LEVEL,
        help="noise std relative to each image's (max - min)",
    )
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run the models on',
    )
    add_overwrite_argument(parser, f'{SCORES_FILE} and {GRID_FILE} in --out-dir')
    args = parser.parse_args(argv)

    if len(args.pairs) % 2:
        parser.error(
            f'expected CONFIG CHECKPOINT pairs, got {len(args.pairs)} paths: '
            f'{args.pairs}'
        )
    configs, checkpoints = args.pairs[::2], args.pairs[1::2]
    names = args.names or [osp.splitext(osp.basename(path))[0] for path in configs]
    if len(names) != len(configs):
        parser.error(f'--names gives {len(names)} names for {len(configs)} models')
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        parser.error(f'model names must differ; repeated: {duplicates} (use --names)')
    for name, config, checkpoint in zip(names, configs, checkpoints):
        if not config.endswith('.py'):
            parser.error(
                f'model {name}: expected CONFIG CHECKPOINT with a .py config, '
                f'got config {config!r}'
            )
        if not osp.isfile(checkpoint) and '://' not in checkpoint:
            parser.error(f'checkpoint {checkpoint!r} of model {name} is not a file')
    if args.noise_level < 0:
        parser.error(f'--noise-level must be non-negative, got {args.noise_level}')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device is available')
    args.models = list(zip(names, configs, checkpoints))
    args.scores_path = osp.join(args.out_dir, SCORES_FILE)
    args.grid_path = osp.join(args.out_dir, GRID_FILE)
    require_new_output((args.scores_path, args.grid_path), args.overwrite)
    return args


def summarise(scores: list[float]) -> dict:
    """Mean, population std and counts of the finite scores.

    Args:
        scores (list[float]): One score per image, NaN for degenerate ones.

    Returns:
        dict: ``mean`` and ``std`` (None without a finite score), ``count``
        (finite scores) and ``nan_count``.
    """
    finite = np.array([score for score in scores if not math.isnan(score)])
    return dict(
        mean=float(finite.mean()) if finite.size else None,
        std=float(finite.std()) if finite.size else None,
        count=int(finite.size),
        nan_count=len(scores) - int(finite.size),
    )


def format_table(summaries: dict) -> str:
    """The models' scores as a Markdown table.

    Args:
        summaries (dict): Model name to :func:`summarise`'s dict.

    Returns:
        str: ``| model | mean ± std | images |``, NaN images noted.
    """
    lines = ['| model | mean ± std | images |', '|---|---|---|']
    for name, summary in summaries.items():
        score = (
            'n/a'
            if summary['mean'] is None
            else f'{summary["mean"]:.3f} ± {summary["std"]:.3f}'
        )
        images = str(summary['count'])
        if summary['nan_count']:
            images += f' (+{summary["nan_count"]} NaN, skipped)'
        lines.append(f'| {name} | {score} | {images} |')
    return '\n'.join(lines)


def plot_attention_grid(rows: list[list[dict]], names: list[str], out_path: str):
    """Saves the grid of images and attention overlays.

    Args:
        rows (list[list[dict]]): Per image, per model: ``image`` (``(C, H,
            W)`` uint8 as the pipeline packs it, BGR), ``mask`` (``(H, W)``),
            ``attention`` (``(H, W)`` in [0, 1]), ``score`` and ``title`` (of
            the image column, taken from the first model).
        names (list[str]): The model names, in column order.
        out_path (str): The PNG file.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    columns = 1 + len(names)
    figure = agg_figure(
        _PANEL_INCHES * columns + 1.0, _PANEL_INCHES * len(rows) + 0.9, 100
    )
    figure.set_layout_engine('constrained')
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for row_axes, row in zip(axes, rows):
        first = row[0]
        row_axes[0].imshow(_to_rgb(first['image']))
        _outline(row_axes[0], first['mask'])
        row_axes[0].set_title(first['title'], fontsize=8)
        for panel, name, result in zip(row_axes[1:], names, row):
            grey = _to_rgb(result['image']).astype(np.float32).mean(2)
            panel.imshow(grey, cmap='gray', vmin=0, vmax=255)
            panel.imshow(result['attention'], cmap='jet', alpha=0.5, vmin=0, vmax=1)
            _outline(panel, result['mask'])
            score = result['score']
            shown = 'NaN' if math.isnan(score) else f'{score:+.3f}'
            panel.set_title(f'{name}\nscore {shown}', fontsize=9)
        for panel in row_axes:
            panel.set_axis_off()
    colour_bar = figure.colorbar(
        ScalarMappable(Normalize(0, 1), 'jet'), ax=axes, shrink=0.6, aspect=30
    )
    colour_bar.set_label('attention', fontsize=9)
    figure.suptitle(
        'Attention score: 1 = all on the object, 0 = spread like its area, '
        '< 0 = on the background\n(magenta: mask outline; NaN: empty or full '
        'mask, or a zero map)',
        fontsize=9,
    )
    save_figure_atomically(figure, out_path, dpi=100)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    # Test pipelines pack (C, H, W) in LoadImageFromFile's BGR order.
    return image[::-1].transpose(1, 2, 0) if image.shape[0] == 3 else image[0]


def _outline(axes, mask: np.ndarray) -> None:
    # A mask without both sides of 0.5 has no outline to draw.
    if mask.min() < 0.5 < mask.max():
        axes.contour(mask, levels=[0.5], colors=_MASK_COLOUR, linewidths=1.2)


def _short_image_name(img_path: str) -> str:
    return osp.join(osp.basename(osp.dirname(img_path)), osp.basename(img_path))


def main(argv=None) -> None:
    """Scores every model; writes the JSON and the grid, prints the table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Raises:
        UserError: If a config or checkpoint cannot be used, or the configs
            test different images.
    """
    args = parse_args(argv)
    loaded = []
    for name, config_path, checkpoint in args.models:
        config = load_config(config_path)
        with registry_errors_named(config_path):
            samples = CleanTestSamples(config, args.max_images)
            model = load_retriever(config, checkpoint, args.device)
        if loaded and samples.img_paths != loaded[0][1].img_paths:
            raise UserError(
                f'the test sets of {args.models[0][1]} and {config_path} differ; '
                'models are compared on the same images'
            )
        loaded.append((name, samples, model))
    num_images = len(loaded[0][1])
    grid_positions = sorted(
        {
            int(position)
            for position in np.linspace(
                0, num_images - 1, min(args.grid_images, num_images)
            ).round()
        }
    )

    progress = ProgressBar(len(loaded) * num_images)
    results = {}
    for name, samples, model in loaded:
        results[name] = score_attention(
            model,
            samples,
            n_samples=args.n_samples,
            noise_level=args.noise_level,
            seed=args.seed,
            map_positions=grid_positions,
            progress=progress,
        )
    print()

    img_paths = loaded[0][1].img_paths
    summaries = {name: summarise(scores) for name, (scores, _) in results.items()}
    report = {
        'settings': {
            key: getattr(args, key)
            for key in ('n_samples', 'noise_level', 'seed', 'max_images')
        },
        'models': {
            name: {
                'config': config,
                'checkpoint': checkpoint,
                **summaries[name],
                'images': [
                    {
                        'img_path': path,
                        'score': None if math.isnan(score) else score,
                    }
                    for path, score in zip(img_paths, results[name][0])
                ],
            }
            for name, config, checkpoint in args.models
        },
    }
    rows = []
    for position in grid_positions:
        row = []
        for name, samples, _ in loaded:
            sample = samples[position]
            scores, maps = results[name]
            row.append(
                dict(
                    image=sample.image.numpy(),
                    mask=sample.mask.numpy(),
                    attention=maps[position],
                    score=scores[position],
                    title=_short_image_name(sample.img_path),
                )
            )
        rows.append(row)
    os.makedirs(args.out_dir, exist_ok=True)
    write_json_atomically(args.scores_path, report, indent=2)
    plot_attention_grid(rows, [name for name, _, _ in loaded], args.grid_path)
    print(format_table(summaries))
    print(f'Wrote {args.scores_path} and {args.grid_path}')


if __name__ == '__main__':
    run_tool(main)
