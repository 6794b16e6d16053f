"""IoU and coverage of predicted foreground masks against ground truth.

Example::

    python tools/data/mask_quality.py work_dirs/masks/fg_mask \
        data/bg_challenge/fg_mask --out work_dirs/masks/quality.json

pairs masks by relative path without extension (``.png`` 0/255 or ``.npy``
0/1 on either side) and prints mean IoU and coverage per class (the folder
holding the mask) and overall (see :mod:`clad_mm.data_prep.masks.mask_folder`).
"""

import argparse
import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.data_prep.masks.mask_folder import (
    compare_mask_folders,
    format_mask_quality_table,
)
from clad_mm.utils.fileio import write_json_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Score predicted masks against ground-truth masks.'
    )
    parser.add_argument('pred_root', help='folder of predicted masks')
    parser.add_argument('gt_root', help='folder of ground-truth masks')
    parser.add_argument(
        '--out',
        help='JSON file for the scores (default: PRED_ROOT/../mask_quality.json)',
    )
    add_overwrite_argument(parser, '--out (or its default)')
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = osp.join(
            osp.dirname(osp.abspath(args.pred_root)), 'mask_quality.json'
        )
    require_new_output(args.out, args.overwrite)
    return args


def main(argv=None) -> None:
    """Compares the folders, prints the table and writes the JSON.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    out = args.out
    result = compare_mask_folders(args.pred_root, args.gt_root)
    print(format_mask_quality_table(result))
    write_json_atomically(out, result, indent=1)
    print(f'\nScores: {out}')


if __name__ == '__main__':
    run_tool(main)
