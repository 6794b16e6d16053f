"""Generates SynSOP, a synthetic retrieval set in Stanford Online Products' layout.

Example::

    python tools/data/make_synsop.py data/synsop

writes ``data/synsop/{Ebay_train.txt,Ebay_test.txt}``, the photos in
``data/synsop/<shape>_final``, their soft mattes in ``data/synsop/masks`` and
two background pools in ``data/synsop/backgrounds/{train,test}`` (see
:mod:`clad_mm.data_prep.synthetic.synsop`). Running it again on a complete set
made with the same options does nothing, so scripts can call it
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

from clad_mm.data_prep.synthetic.synsop import (
    DEFAULT_BACKGROUND_SHIFT,
    DEFAULT_HOME_PROBABILITY,
    generate_synsop,
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
        description='Generate SynSOP, a synthetic retrieval data set in the '
        'layout of Stanford Online Products whose products each sit on their '
        'own background (a background bias), with soft foreground mattes and '
        'two pools of object-free backgrounds for BGAugment.'
    )
    parser.add_argument('out_dir', help='folder to write the data set into')
    parser.add_argument(
        '--image-size', type=positive_int, default=64, help='side of the images'
    )
    parser.add_argument(
        '--train-classes', type=positive_int, default=48, help='training products'
    )
    parser.add_argument(
        '--test-classes', type=positive_int, default=48, help='test products'
    )
    parser.add_argument(
        '--images-per-class', type=positive_int, default=6, help='photos per product'
    )
    parser.add_argument(
        '--pool-size',
        type=positive_int,
        default=40,
        help='backgrounds in each of the two pools (train, test)',
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--home-probability',
        type=float,
        default=DEFAULT_HOME_PROBABILITY,
        help="probability that a photo shows its product's home background "
        '(the strength of the background bias)',
    )
    parser.add_argument(
        '--background-shift',
        type=float,
        default=DEFAULT_BACKGROUND_SHIFT,
        help='largest offset of a photo in its home background, a fraction of '
        'the image side (larger: less alike backgrounds, a weaker bias)',
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
    generate_synthetic_set('SynSOP', generate_synsop, **vars(args))


if __name__ == '__main__':
    run_tool(main)
