"""Show the same test images in several splits side by side (one PNG grid).

Rows are splits, columns the first images (by file stem) of every class of
the first split; the splits share their stems, as the Background Challenge's
and the generated SynBG sets' do.

Example::

    python tools/analysis/split_preview.py data/synbg_texture/test_set \
        --splits original random_texture outline only_texture \
        --out docs/images/synbg_texture_splits.png
"""

import argparse
import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.visualization import plot_split_preview

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool


def parse_args(argv=None):
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Grid of the same test images in several splits'
    )
    parser.add_argument('test_root', help='folder holding <split>/val/<class>/')
    parser.add_argument('--splits', nargs='+', required=True, help='one row each')
    parser.add_argument('--out', required=True, help='PNG file to write')
    parser.add_argument('--per-class', type=int, default=1, help='images per class')
    parser.add_argument('--cell-size', type=int, default=96, help='cell side, px')
    add_overwrite_argument(parser, '--out')
    args = parser.parse_args(argv)
    require_new_output(args.out, args.overwrite)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    out = plot_split_preview(
        args.test_root, args.splits, args.out, args.per_class, args.cell_size
    )
    print(f'Wrote {out}')


if __name__ == '__main__':
    run_tool(main)
