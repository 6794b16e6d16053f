"""Makes Stylized ImageNet-9 (S-CLAD's STYLIZED-IN9 split) with AdaIN.

Example (the test split, from the IN-9 ``original`` test images and a folder
of paintings, e.g. Kaggle's Painter by Numbers ``train/``)::

    python tools/data/make_stylized_in9.py data/bg_challenge data/paintings \\
        --encoder checkpoints/adain/vgg_normalised.pth \\
        --decoder checkpoints/adain/decoder.pth --device cuda

writes ``data/bg_challenge/stylized/val/<class>/<stem>.JPEG`` (same size as
each input), a manifest of the style drawn for every image and the run's
report (see :mod:`clad_mm.data_prep.texture.stylized_split_builder`), and prints the
images per class. Started again with the same options, it resumes; other
options are refused. The AdaIN weights are pytorch-AdaIN's release
(github.com/naoto0804/pytorch-AdaIN) and are not downloaded by this tool.

``--subset train`` stylizes a training folder instead, e.g. ``ROOT=data/in9``
for the Stylized IN-9 training set (``data/in9/stylized/train``) of an SIN9
baseline, read by ``BGChallengeTrainDataset`` with ``image_dir='stylized'``
and ``background_dir=None``.
"""

import argparse
import os.path as osp
import sys

import torch

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.data_prep.texture.stylized_split_builder import (
    build_stylized_split,
    format_stylize_table,
    report_path,
)

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import positive_int, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Stylize a split with AdaIN and random style images '
        '(Stylized ImageNet-9).'
    )
    parser.add_argument(
        'root', help='root holding <split>/<subset>/<class>/ (e.g. data/bg_challenge)'
    )
    parser.add_argument(
        'style_dir',
        help='folder of style images (e.g. paintings), searched recursively',
    )
    parser.add_argument(
        '--encoder', required=True, help="pytorch-AdaIN's vgg_normalised.pth"
    )
    parser.add_argument('--decoder', required=True, help="pytorch-AdaIN's decoder.pth")
    parser.add_argument(
        '--split', default='original', help='folder of the images to stylize'
    )
    parser.add_argument(
        '--out-split', default='stylized', help='folder of the stylized images'
    )
    parser.add_argument(
        '--subset', default='val', help='val (test splits) or train (training set)'
    )
    parser.add_argument(
        '--alpha', type=float, default=1.0, help='AdaIN style strength in [0, 1]'
    )
    parser.add_argument(
        '--seed', type=int, default=0, help='non-negative seed of the style draws'
    )
    parser.add_argument(
        '--batch-size', type=positive_int, default=16, help='images per AdaIN pass'
    )
    parser.add_argument(
        '--device', help='cpu, cuda, cuda:1, ... (default: cuda if available)'
    )
    parser.add_argument(
        '--style-size',
        type=positive_int,
        default=256,
        help='side of the square crop each style image is resized to',
    )
    args = parser.parse_args(argv)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return args


def main(argv=None) -> None:
    """Writes the stylized split and prints the per-class table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    report = build_stylized_split(
        args.root,
        args.style_dir,
        args.encoder,
        args.decoder,
        split=args.split,
        out_split=args.out_split,
        subset=args.subset,
        alpha=args.alpha,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        style_size=args.style_size,
    )
    print(format_stylize_table(report))
    speed = report['images_per_second']
    print(
        f'{report["written_now"]} images written, {report["already_complete"]} '
        f'already complete in {report["seconds"]:.1f} s'
        + (f' ({speed} images/s on {report["device"]})' if speed else '')
        + f'; {report["styles_used"]} of {report["styles_available"]} style '
        'images drawn'
    )
    print(f'Manifest: {report["manifest"]}')
    print(f'Report: {report_path(args.root, args.out_split, args.subset)}')


if __name__ == '__main__':
    run_tool(main)
