"""Generates SynWaterbirds, a synthetic data set in the official Waterbirds layout.

Example::

    python tools/data/make_synwaterbirds.py data/synwaterbirds

writes ``data/synwaterbirds/metadata.csv`` and the images in
``data/synwaterbirds/<NNN.Species_Name>/``, readable by ``WaterbirdsDataset``
(see :mod:`clad_mm.data_prep.synthetic.synwaterbirds`). Running it again on a
complete set made with the same options does nothing, so scripts can call it
unconditionally.
"""

import argparse
import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.data_prep.synthetic.synwaterbirds import (
    DEFAULT_BIRD_SIZE,
    DEFAULT_PLACE_CORRELATION,
    generate_synwaterbirds,
)

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import generate_synthetic_set, positive_int, run_tool


def parse_args(argv=None):
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Generate SynWaterbirds, a synthetic data set in the official '
        'Waterbirds layout (metadata.csv and species folders): landbirds and '
        'waterbirds on land and water backgrounds, the place correlated with '
        'the bird type in training (a spurious cue) and group-balanced in '
        'validation and test.'
    )
    parser.add_argument('out_dir', help='folder to write the data set into')
    parser.add_argument(
        '--image-size', type=positive_int, default=64, help='side of the images'
    )
    parser.add_argument(
        '--num-train', type=positive_int, default=1200, help='training images'
    )
    parser.add_argument(
        '--num-val', type=positive_int, default=400, help='validation images'
    )
    parser.add_argument(
        '--num-test', type=positive_int, default=800, help='test images'
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--place-correlation',
        type=float,
        default=DEFAULT_PLACE_CORRELATION,
        help='fraction of each bird type on its usual place in training (the '
        'strength of the bias; 0.5: none)',
    )
    parser.add_argument(
        '--bird-size',
        type=float,
        default=DEFAULT_BIRD_SIZE,
        help='mean radius of the birds, a fraction of the image side (smaller: '
        'the place is the easier cue still)',
    )
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='remove the files an earlier run of this generator wrote into '
        'OUT_DIR (as its journal lists them) and generate anew; other files '
        "stay, and files of others in the set's folders stop the run",
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generates the set, or reports the complete set already in place.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    generate_synthetic_set('SynWaterbirds', generate_synwaterbirds, **vars(args))


if __name__ == '__main__':
    run_tool(main)
