"""Generates SynBG, the synthetic Background-Challenge-style data set.

Example::

    python tools/data/make_synbg.py data/synbg

writes ``data/synbg/{original,fg_mask,fg_grabcut,only_bg_t}/train`` and
``data/synbg/test_set/<split>/val`` (see
:mod:`clad_mm.data_prep.synthetic.synbg`).
Running it again on a complete set made with the same options does nothing,
so scripts can call it unconditionally.
"""

import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.data_prep.synthetic.synbg import (
    DEFAULT_BACKGROUND_CORRELATION,
    generate_synbg,
)

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import generate_synthetic_set, run_tool, synthetic_set_parser


def parse_args(argv=None):
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = synthetic_set_parser(
        'Generate SynBG, a synthetic data set in the layout of '
        'the Background Challenge and CLAD training data.',
        '--background-correlation',
        DEFAULT_BACKGROUND_CORRELATION,
        'probability that an image shows its own class background',
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generates the set, or reports the complete set already in place.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    generate_synthetic_set('SynBG', generate_synbg, **vars(args))


if __name__ == '__main__':
    run_tool(main)
