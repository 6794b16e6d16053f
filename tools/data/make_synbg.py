"""Generates SynBG, the synthetic Background-Challenge-style data set.

Example::

    python tools/data/make_synbg.py data/synbg

writes ``data/synbg/{original,fg_mask,fg_grabcut,only_bg_t}/train`` and
``data/synbg/test_set/<split>/val`` (see :mod:`clad_mm.datasets.synbg`).
Running it again on a complete set made with the same options does nothing,
so scripts can call it unconditionally.
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

from clad_mm.datasets.synbg import (
    DEFAULT_BACKGROUND_CORRELATION,
    generate_synbg,
)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Generate SynBG, a synthetic data set in the layout of '
        'the Background Challenge and CLAD training data.'
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
        '--background-correlation',
        type=float,
        default=DEFAULT_BACKGROUND_CORRELATION,
        help='probability that an image shows its own class background',
    )
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace the SynBG folders of a non-empty OUT_DIR',
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
        summary = generate_synbg(
            args.out_dir,
            image_size=args.image_size,
            train_per_class=args.train_per_class,
            test_per_class=args.test_per_class,
            seed=args.seed,
            overwrite=args.overwrite,
            background_correlation=args.background_correlation,
        )
    except (FileExistsError, NotADirectoryError, ValueError) as error:
        sys.exit(f'make_synbg: {error}')
    counts = f'{summary["num_train"]} train / {summary["num_test"]} test images'
    if summary['generated']:
        seconds = time.perf_counter() - start
        print(f'Wrote SynBG ({counts}) to {args.out_dir} in {seconds:.1f} s')
    else:
        print(
            f'{args.out_dir} already holds a complete SynBG set ({counts}) '
            'with these parameters; nothing to do'
        )


if __name__ == '__main__':
    main()
