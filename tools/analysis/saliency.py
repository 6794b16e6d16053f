"""SmoothGrad saliency maps of several classifiers side by side (CLAD Fig. 6).

Example (SynBG, the baseline against CLAD)::

    python tools/analysis/saliency.py \\
        --model baseline configs/clad/resnet18_synbg_baseline.py base.pth \\
        --model clad configs/clad/resnet18_synbg_clad.py clad.pth \\
        --images data/synbg/test_set/mixed_rand/val/00_circle/*.JPEG \\
        --out saliency.png

writes ``saliency.png``, one row per image and the columns: the input image
(captioned with its file name and true class), then one SmoothGrad overlay
per model (captioned with the model's name and prediction), with a colour
bar below the rows; the PNG is ``cell_size * (1 + models)`` pixels wide and
``cell_size * images`` tall. An image in the Background Challenge layout
whose foreground mask exists (``<root>/fg_mask/<subset>/<class>/<stem>.npy``,
e.g. every SynBG test image, in every split) has the mask's outline drawn on
its cells; the input cell then gives the share of the image the object
covers and each overlay the share of its saliency on the object
(:func:`~clad_mm.analysis.smooth_grad.attention_in_mask`: a map spread
evenly would score the object's area). ``saliency.json`` beside it (or
``--out-json``) lists the settings, images, models and predictions, with
both shares, and a table of the predictions is printed. Existing output
files are kept unless ``--overwrite`` is given.

Each image goes through each model's test pipeline; the input column shows
it as the first model's pipeline makes it, each overlay as its model's does.
The true class comes from the image's ``NN_<class>`` folder (Background
Challenge layout); ``--target pred`` explains the predicted class instead,
e.g. for images outside such folders. See :mod:`clad_mm.analysis.smooth_grad`
for the maths.
"""

import argparse
import os.path as osp
import sys

import torch
from mmengine.utils import ProgressBar

try:
    import clad_mm  # noqa: F401  (registers the components, applies compat fixes)
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import clad_mm  # noqa: F401

from clad_mm.analysis.smooth_grad import (
    SALIENCY_REDUCTIONS,
    SALIENCY_TARGETS,
    explain_images,
    foreground_mask_path,
    label_from_class_folder,
)
from clad_mm.apis.classifier_loading import load_classifier
from clad_mm.utils.fileio import write_json_atomically
from clad_mm.visualization.saliency import GridCell, plot_saliency_grid

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The options; ``images`` holds every image path
        (from ``--images`` and ``--image-list``), ``models`` the
        ``(name, config, checkpoint)`` triples and ``out_json`` its path.
    """
    parser = argparse.ArgumentParser(
        description='Draw SmoothGrad saliency maps of several classifiers '
        'side by side: one row per image, one column per model.'
    )
    parser.add_argument(
        '--model',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
        dest='models',
        help='a model to explain, once per model, in column order',
    )
    parser.add_argument('--images', nargs='+', default=[], help='image files')
    parser.add_argument(
        '--image-list',
        help='text file with one image path per line (blank lines and lines '
        'starting with # are skipped), added after --images',
    )
    parser.add_argument('--out', required=True, help='PNG file of the grid')
    parser.add_argument(
        '--out-json', help='JSON file of the predictions (default: --out as .json)'
    )
    add_overwrite_argument(parser, '--out and --out-json')
    parser.add_argument(
        '--n-samples', type=int, default=25, help='noisy copies per image'
    )
    parser.add_argument(
        '--noise-level',
        type=float,
        default=0.15,
        help="noise std relative to each image's (max - min)",
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the noise')
    parser.add_argument(
        '--target',
        choices=SALIENCY_TARGETS,
        default='label',
        help='explain the true class (from the NN_<class> folder) or the predicted one',
    )
    parser.add_argument(
        '--reduction',
        choices=SALIENCY_REDUCTIONS,
        default='max',
        help='how the absolute gradient is reduced over colour channels',
    )
    parser.add_argument(
        '--clip-percentile',
        type=float,
        default=99.0,
        help='each map is divided by this percentile and clipped to 1 (100: max)',
    )
    parser.add_argument(
        '--cell-size', type=int, default=128, help='side of a grid cell in pixels'
    )
    parser.add_argument(
        '--batch-size', type=int, default=8, help='images per forward pass'
    )
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run the models on',
    )
    args = parser.parse_args(argv)

    names = [name for name, _, _ in args.models]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        parser.error(f'--model names must differ; repeated: {duplicates}')
    for name, config, checkpoint in args.models:
        if not config.endswith('.py'):
            parser.error(
                f'--model {name} {config} {checkpoint}: expected NAME CONFIG '
                f'CHECKPOINT with a .py config, got config {config!r}'
            )
        for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
            if not osp.isfile(path):
                parser.error(f'{what} {path!r} of --model {name} is not a file')
    args.images = list(args.images)
    if args.image_list is not None:
        if not osp.isfile(args.image_list):
            parser.error(f'--image-list {args.image_list!r} is not a file')
        with open(args.image_list) as file:
            args.images += [
                line.strip()
                for line in file
                if line.strip() and not line.lstrip().startswith('#')
            ]
    if not args.images:
        parser.error('give images with --images or --image-list')
    for path in args.images:
        if not osp.isfile(path):
            parser.error(f'image {path!r} is not a file')
    if args.n_samples < 1:
        parser.error(f'--n-samples must be at least 1, got {args.n_samples}')
    if args.noise_level < 0:
        parser.error(f'--noise-level must be non-negative, got {args.noise_level}')
    if not 0 < args.clip_percentile <= 100:
        parser.error(
            f'--clip-percentile must be in (0, 100], got {args.clip_percentile}'
        )
    if args.cell_size < 32:
        parser.error(f'--cell-size must be at least 32, got {args.cell_size}')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be at least 1, got {args.batch_size}')
    if not args.out.lower().endswith('.png'):
        parser.error(f'--out must be a .png file, got {args.out!r}')
    if args.out_json is None:
        args.out_json = osp.splitext(args.out)[0] + '.json'
    require_new_output((args.out, args.out_json), args.overwrite)
    return args


def build_grid(images: list, explanations: dict) -> list:
    """Grid cells: per image, the input then one overlay per model.

    Captions: the file name and true class, and the object's share of the
    image where the image has a mask; per model its name, its prediction
    and the share of its saliency on the object.

    Args:
        images (list[str]): Image paths, in row order.
        explanations (dict): Model name to the list :func:`explain_images`
            returned, in column order.

    Returns:
        list[list[GridCell]]: The rows.
    """
    rows = []
    for index, path in enumerate(images):
        first = next(iter(explanations.values()))[index]
        _, true_class = label_from_class_folder(path)
        caption = f'{osp.basename(path)}\ntrue: {true_class or "unknown"}'
        if first['mask_area'] is not None:
            caption += f'\nobject: {100 * first["mask_area"]:.0f}% of image'
        row = [GridCell(_to_rgb(first['image']), caption, mask=first['mask'])]
        for name, results in explanations.items():
            result = results[index]
            caption = (
                f'{name}\npred: {result["pred_class"]} '
                f'({100 * result["pred_score"]:.0f}%)'
            )
            if result['saliency_in_mask'] is not None:
                caption += f'\non object: {100 * result["saliency_in_mask"]:.0f}%'
            row.append(
                GridCell(
                    _to_rgb(result['image']),
                    caption,
                    result['saliency'],
                    result['mask'],
                )
            )
        rows.append(row)
    return rows


def _to_rgb(image):
    # Test pipelines pack (C, H, W) in LoadImageFromFile's BGR order.
    return image[::-1].transpose(1, 2, 0) if image.shape[0] == 3 else image[0]


def format_table(images: list, explanations: dict) -> str:
    """Predictions as a Markdown table, one row per image.

    Args:
        images (list[str]): Image paths.
        explanations (dict): As for :func:`build_grid`.

    Returns:
        str: The table.
    """
    header = ['image', 'true class', *explanations]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for index, path in enumerate(images):
        _, true_class = label_from_class_folder(path)
        cells = [osp.basename(path), true_class or '-']
        for results in explanations.values():
            result = results[index]
            cells.append(f'{result["pred_class"]} ({100 * result["pred_score"]:.1f}%)')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> None:
    """Explains every image with every model; writes the PNG and the JSON.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    mask_paths = [foreground_mask_path(path) for path in args.images]
    explanations = {}
    progress = ProgressBar(len(args.models) * len(args.images))
    for name, config, checkpoint in args.models:
        model = load_classifier(config, checkpoint, args.device)
        explanations[name] = explain_images(
            model,
            args.images,
            target=args.target,
            n_samples=args.n_samples,
            noise_level=args.noise_level,
            seed=args.seed,
            reduction=args.reduction,
            clip_percentile=args.clip_percentile,
            batch_size=args.batch_size,
            progress=progress,
            mask_paths=mask_paths,
        )
    print()

    rows = build_grid(args.images, explanations)
    plot_saliency_grid(
        rows,
        args.out,
        args.cell_size,
        colorbar_label=f"SmoothGrad saliency (1 = each map's "
        f'{args.clip_percentile:g}th pct.)',
    )
    report = {
        'settings': {
            key: getattr(args, key)
            for key in (
                'n_samples',
                'noise_level',
                'seed',
                'target',
                'reduction',
                'clip_percentile',
                'cell_size',
            )
        },
        'grid_size_px': [args.cell_size * len(rows[0]), args.cell_size * len(rows)],
        'images': [
            {
                'path': path,
                'true_label': label_from_class_folder(path)[0],
                'true_class': label_from_class_folder(path)[1],
                'mask_path': mask_path,
            }
            for path, mask_path in zip(args.images, mask_paths, strict=True)
        ],
        'models': [
            {'name': name, 'config': config, 'checkpoint': checkpoint}
            for name, config, checkpoint in args.models
        ],
        'predictions': {
            name: [
                {
                    'image': path,
                    **{
                        key: result[key]
                        for key in (
                            'pred_label',
                            'pred_class',
                            'pred_score',
                            'target_label',
                            'mask_area',
                            'saliency_in_mask',
                        )
                    },
                }
                for path, result in zip(args.images, results)
            ]
            for name, results in explanations.items()
        },
    }
    write_json_atomically(args.out_json, report, indent=2)
    print(format_table(args.images, explanations))
    width, height = report['grid_size_px']
    print(f'Wrote {args.out} ({width} x {height} px) and {args.out_json}')


if __name__ == '__main__':
    run_tool(main)
