"""Generates the SynBG texture variant, a texture-bias data set for S-CLAD.

Example::

    python tools/data/make_synbg_texture.py data/synbg_texture

writes ``data/synbg_texture/{original,fg_mask,only_texture}/train`` and
``data/synbg_texture/test_set/{original,random_texture,outline,only_texture}/val``
(see :mod:`clad_mm.datasets.synbg_texture`). Running it again on a complete
set made with the same options does nothing, so scripts can call it
unconditionally.
"""

import argparse
import os.path as osp
import sys
import time

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.datasets.synbg_texture import (
    DEFAULT_TEXTURE_CORRELATION,
    generate_synbg_texture,
)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Generate the SynBG texture variant: SynBG shapes filled '
        'with class-correlated textures on a neutral background, with the '
        'test splits original, random_texture, outline and only_texture.'
    )
    parser.add_argument('out_dir', help='folder to write the data set into')
    parser.add_argument(
        '--image-size', type=int, default=64, help='side of the square images'
    )
    parser.add_argument(
        '--train-per-class', type=int, default=250, help='training images per class'
    )
    parser.add_argument(
        '--test-per-class',
        type=int,
        default=75,
        help='test images per class in every test split',
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--texture-correlation',
        type=float,
        default=DEFAULT_TEXTURE_CORRELATION,
        help='probability that a shape is filled with its own class texture',
    )
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace the SynBG texture folders of a non-empty OUT_DIR',
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generates the set, or reports the complete set already in place.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = generate_synbg_texture(
            args.out_dir,
            image_size=args.image_size,
            train_per_class=args.train_per_class,
            test_per_class=args.test_per_class,
            seed=args.seed,
            texture_correlation=args.texture_correlation,
            overwrite=args.overwrite,
        )
    except (FileExistsError, NotADirectoryError, ValueError) as error:
        sys.exit(f'make_synbg_texture: {error}')
    counts = f'{summary["num_train"]} train / {summary["num_test"]} test images'
    if summary['generated']:
        seconds = time.perf_counter() - start
        print(f'Wrote SynBG texture ({counts}) to {args.out_dir} in {seconds:.1f} s')
    else:
        print(
            f'{args.out_dir} already holds a complete SynBG texture set '
            f'({counts}) with these parameters; nothing to do'
        )


if __name__ == '__main__':
    main()
