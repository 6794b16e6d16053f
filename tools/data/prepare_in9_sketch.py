"""Makes the IN9-SKETCH test split (S-CLAD, Table 7) from ImageNet-Sketch.

Example::

    python tools/data/prepare_in9_sketch.py data/imagenet-sketch/sketch \\
        data/bg_challenge --synsets data/imagenet/LOC_synset_mapping.txt

writes the sketches of the 370 ImageNet classes mapped to IN-9, resized
(short side 256) and centre-cropped to 224 like the IN-9 test images, as
``data/bg_challenge/sketch/val/<class>/<wnid>_<name>.JPEG`` (see
:mod:`clad_mm.data_prep.in9.sketch`), prints the images per class and saves
them in ``data/bg_challenge/sketch/prepare_in9_sketch_report.json``. Started
again, it resumes. ``tools/test.py`` then evaluates the split with the
others of the test root.
"""

import argparse
import os.path as osp
import sys

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.data_prep.in9.sketch import (
    REPORT_FILE,
    SPLIT,
    format_sketch_table,
    prepare_in9_sketch,
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
        description='Write the IN-9 classes of ImageNet-Sketch as the sketch '
        'test split of a Background Challenge test root.'
    )
    parser.add_argument(
        'sketch_dir', help='ImageNet-Sketch sketch/ folder, <wnid>/<name>.JPEG'
    )
    parser.add_argument(
        'test_root', help='test root receiving sketch/val/ (e.g. data/bg_challenge)'
    )
    parser.add_argument(
        '--synsets',
        help='the 1000 synsets in class order (LOC_synset_mapping.txt or one '
        'wnid per line); default: the sorted folders of SKETCH_DIR',
    )
    parser.add_argument(
        '--size',
        type=positive_int,
        default=224,
        help='output side; the short side is first resized to size * 256 / 224',
    )
    parser.add_argument('--workers', type=positive_int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Writes the split and prints the per-class table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    report = prepare_in9_sketch(
        args.sketch_dir,
        args.test_root,
        synsets_file=args.synsets,
        size=args.size,
        workers=args.workers,
    )
    print(format_sketch_table(report))
    missing = report['missing_synset_folders']
    if missing:
        print(
            f'WARNING: {len(missing)} IN-9 synsets have no folder in '
            f'{args.sketch_dir}, e.g. {missing[:5]}'
        )
    print(
        f'{report["written_now"]} images written, {report["already_complete"]} '
        f'already complete in {report["seconds"]:.1f} s'
    )
    for failure in report['failed']:
        print(f'FAILED {failure["path"]}: {failure["error"]}')
    print(f'Report: {osp.join(args.test_root, SPLIT, REPORT_FILE)}')


if __name__ == '__main__':
    run_tool(main)
