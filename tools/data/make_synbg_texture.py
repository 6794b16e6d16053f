"""Generates the SynBG texture variant, a texture-bias data set for S-CLAD.

Example::

    python tools/data/make_synbg_texture.py data/synbg_texture

writes ``data/synbg_texture/{original,fg_mask,only_texture}/train`` and
``data/synbg_texture/test_set/{original,random_texture,outline,only_texture}/val``
(see :mod:`clad_mm.data_prep.synthetic.synbg_texture`). Running it again on a
complete set made with the same options does nothing, so scripts can call it
unconditionally.
"""

import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.data_prep.synthetic.synbg_texture import (
    DEFAULT_TEXTURE_CORRELATION,
    generate_synbg_texture,
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
        'Generate the SynBG texture variant: ink-outlined shapes filled '
        'with class-correlated textures on a neutral background, with the '
        'test splits original, random_texture, outline and only_texture.',
        '--texture-correlation',
        DEFAULT_TEXTURE_CORRELATION,
        'probability that a shape is filled with its own class texture',
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generates the set, or reports the complete set already in place.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    generate_synthetic_set('SynBG texture', generate_synbg_texture, **vars(args))


if __name__ == '__main__':
    run_tool(main)
