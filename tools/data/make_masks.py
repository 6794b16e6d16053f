"""Foreground masks: CLAD training views, or mattes for the retrieval sets.

Example::

    python tools/data/make_masks.py data/in9/original data/in9 \
        --method grabcut-bbox --boxes data/imagenet/bboxes/train

reads ``data/in9/original/[<split>/]<class>/<image>`` and writes
``data/in9/{fg_mask,only_bg_t,fg_grabcut}/<same relative path>`` and
``data/in9/make_masks_report.json`` (see :mod:`clad_mm.data_prep.masks.mask_folder`).

With ``--views mattes`` it writes only one single-channel matte per image,
``OUT_ROOT/<rel>/<stem>.png`` for ``IMG_ROOT/<rel>/<stem>.<ext>`` at any
folder depth, where the retrieval datasets' ``masks_root`` looks for it::

    python tools/data/make_masks.py data/Stanford_Online_Products \
        data/Stanford_Online_Products/masks --method rembg --views mattes
    python tools/data/make_masks.py data/CUB_200_2011/images \
        data/CUB_200_2011/masks --method grabcut-center --views mattes

rembg mattes keep the soft alpha (0..255) that BGAugment composites with;
GrabCut mattes are hard (0 / 255). OUT_ROOT inside IMG_ROOT is not listed,
nor is any folder there holding a make_masks journal (another run's
mattes), and files that are not images (``Ebay_train.txt``) are ignored;
the report names both. Images the recipe rejects get no matte (the report lists
them; the datasets then name them missing): ``--min-mask-share 0`` keeps
every mask that GrabCut or rembg returns.

Running it again resumes: images whose outputs are complete are skipped.
Exits 1 if an image failed (listed in the report), 2 if rembg cannot run.
"""

import argparse
import os
import os.path as osp
import sys

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.data_prep.masks.mask_folder import (
    DEFAULT_MIN_MASK_SHARE,
    METHODS,
    REPORT_FILE,
    VIEWS,
    MaskJob,
    RembgUnavailable,
    format_make_masks_report,
    make_masks,
)

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import run_tool


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Segment every image of IMG_ROOT/[<split>/]<class>/ and '
        'write fg_mask/, only_bg_t/ and fg_grabcut/ under OUT_ROOT, or '
        '(--views mattes) every image of IMG_ROOT at any depth and write '
        'OUT_ROOT/<rel>/<stem>.png mattes.'
    )
    parser.add_argument(
        'img_root',
        help='folder of [<split>/]<class>/<image> (mattes: images at any depth)',
    )
    parser.add_argument(
        'out_root',
        help='folder receiving the three views, or the mattes (then it may '
        'lie inside IMG_ROOT, and is not listed)',
    )
    parser.add_argument(
        '--method',
        choices=METHODS,
        required=True,
        help='grabcut-bbox: GrabCut in the VOC box of --boxes (the ImageNet-9 '
        'recipe); grabcut-center: GrabCut in the image minus a margin; '
        'rembg: U2-Net salient object (pip install rembg)',
    )
    parser.add_argument(
        '--boxes',
        help='Pascal-VOC XML per image, as <stem>.xml or <class>/<stem>.xml '
        '(grabcut-bbox only)',
    )
    parser.add_argument(
        '--workers',
        type=int,
        default=os.cpu_count(),
        help='processes (default: all cores)',
    )
    parser.add_argument(
        '--views',
        choices=VIEWS,
        default='clad',
        help='clad (default): fg_mask/, only_bg_t/ and fg_grabcut/; mattes: '
        'only OUT_ROOT/<rel>/<stem>.png, a single-channel uint8 matte for the '
        "retrieval datasets' masks_root, soft (0..255) for rembg and hard "
        '(0 / 255) for GrabCut',
    )
    parser.add_argument('--iterations', type=int, default=5, help='GrabCut iterations')
    parser.add_argument(
        '--min-mask-share',
        type=float,
        default=DEFAULT_MIN_MASK_SHARE,
        help='reject masks covering less than this share of the box',
    )
    parser.add_argument(
        '--center-margin',
        type=float,
        default=0.1,
        help='margin of the grabcut-center box, as a share of each side',
    )
    args = parser.parse_args(argv)
    if args.method == 'grabcut-bbox' and args.boxes is None:
        parser.error('--method grabcut-bbox needs --boxes')
    return args


def main(argv=None) -> None:
    """Runs :func:`make_masks` and prints its report.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    job = MaskJob(
        img_root=args.img_root,
        out_root=args.out_root,
        method=args.method,
        boxes_dir=args.boxes,
        iterations=args.iterations,
        min_mask_share=args.min_mask_share,
        center_margin=args.center_margin,
        views=args.views,
    )
    try:
        report = make_masks(job, workers=args.workers)
    except RembgUnavailable as error:
        print(f'make_masks: {error}', file=sys.stderr)
        sys.exit(2)
    print(format_make_masks_report(report))
    print(f'\nReport: {osp.join(args.out_root, REPORT_FILE)}')
    if report['failed']:
        sys.exit(1)


if __name__ == '__main__':
    run_tool(main)
