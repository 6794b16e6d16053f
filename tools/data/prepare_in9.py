"""Rebuilds ImageNet-9 (IN-9) training data from ImageNet + bounding boxes.

Example::

    python tools/data/prepare_in9.py \\
        data/imagenet/ILSVRC/Data/CLS-LOC/train \\
        data/imagenet/ILSVRC/Annotations/CLS-LOC/train \\
        data/in9 --synsets data/imagenet/LOC_synset_mapping.txt --balanced

writes ``data/in9/{original,fg_mask,only_bg_t,only_fg,mixed_rand}/train``
and ``data/in9/{original,fg_mask,only_bg_t,mixed_*}/val`` (see
:mod:`clad_mm.data_prep.in9.selection` for the rules), prints the kept and
rejected counts and saves them with every unreadable file in
``data/in9/prepare_in9_report.json``. Started again, it resumes.
"""

import argparse
import os.path as osp
import sys

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.data_prep.in9.build import prepare_in9
from clad_mm.data_prep.in9.report import REPORT_FILE, format_report_table
from clad_mm.data_prep.in9.selection import IN9_TRAIN_PER_CLASS

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
        description='Rebuild ImageNet-9 training and validation folders from '
        'the ImageNet train set and its bounding-box XMLs.'
    )
    parser.add_argument('imagenet_root', help='ImageNet train folder, <wnid>/*.JPEG')
    parser.add_argument(
        'bbox_root', help='Pascal-VOC XMLs, <wnid>/<stem>.xml or <stem>.xml'
    )
    parser.add_argument('out_root', help='output folder (e.g. data/in9)')
    parser.add_argument(
        '--synsets',
        help='the 1000 synsets in class order (LOC_synset_mapping.txt or one '
        'wnid per line); default: the sorted folders of IMAGENET_ROOT',
    )
    parser.add_argument(
        '--balanced',
        action='store_true',
        help='keep exactly --per-class training images per class',
    )
    parser.add_argument(
        '--per-class',
        type=positive_int,
        default=IN9_TRAIN_PER_CLASS,
        help='training images per class with --balanced',
    )
    parser.add_argument(
        '--val-per-class',
        type=int,
        default=50,
        help='validation images per class (0, or at least 2)',
    )
    parser.add_argument(
        '--workers', type=positive_int, help='processes (default: every core)'
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the draws')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='remove the files an earlier prepare_in9 run wrote into OUT_ROOT '
        '(as its journal lists them) and build anew; other files stay',
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Builds the folders and prints the summary table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    report = prepare_in9(
        args.imagenet_root,
        args.bbox_root,
        args.out_root,
        synsets_file=args.synsets,
        balanced=args.balanced,
        per_class=args.per_class,
        val_per_class=args.val_per_class,
        workers=args.workers,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    print(format_report_table(report))
    missing = report['missing_synset_folders']
    if missing:
        print(
            f'WARNING: {len(missing)} of the {report["synsets_mapped"]} IN-9 '
            f'synsets have no folder in {args.imagenet_root}, e.g. {missing[:5]}'
        )
    print(
        f'{report["written_now"]} images written, {report["skipped_existing"]} '
        f'already complete, {report["scanned_now"]} scanned in '
        f'{report["seconds"]:.1f} s with {report["workers"]} workers'
    )
    for failure in report['failed']:
        print(f'FAILED {failure["path"]}: {failure["error"]}')
    print(f'Report: {osp.join(args.out_root, REPORT_FILE)}')


if __name__ == '__main__':
    run_tool(main)
