"""Accuracy under positional shift: full image vs. FiveCrop (CLAD supp. Tab. 6).

Every image of a test split is classified whole and as each of its five
crops (four corners and centre, torchvision ``FiveCrop``), each crop resized
back to the image's size and passed through the config's test pipeline like
the full image. The accuracy of each view and its drop from the full-image
accuracy are printed as a table and written, with every image's predictions,
to ``<work dir>/positional_shift_<time>.json``; the work dir defaults to
``work_dirs/<config name>/positional_shift``.

Example (SynBG baseline)::

    python tools/analysis/positional_shift.py \\
        configs/clad/resnet18_synbg_baseline.py \\
        work_dirs/resnet18_synbg_baseline/epoch_12.pth --split original
"""

import argparse
import os.path as osp
import sys
import time

import mmengine
from mmengine.config import Config

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.analysis.positional_shift import (
    DEFAULT_CROP_FRACTION,
    VIEWS,
    format_positional_shift_table,
    positional_shift_accuracies,
    predict_positional_views,
)
from clad_mm.apis import ClassifierRunner
from clad_mm.datasets import BGChallengeTestDataset
from clad_mm.utils.errors import OutputExistsError
from clad_mm.utils.fileio import write_json_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import (
    add_model_analysis_arguments,
    check_model_analysis_arguments,
    run_tool,
)

ANALYSIS_NAME = 'positional_shift'


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Accuracy of the full image vs. its five crops (CLAD supp. '
        'Table 6).'
    )
    add_model_analysis_arguments(parser, ANALYSIS_NAME)
    parser.add_argument('--split', default='original', help='test split to evaluate')
    parser.add_argument(
        '--crop-fraction',
        type=float,
        default=DEFAULT_CROP_FRACTION,
        help='crop side as a fraction of the image side',
    )
    parser.add_argument('--subset', default='val', help='sub-folder of the split')
    parser.add_argument(
        '--batch-size',
        type=int,
        help="images per forward pass (default: the config's test batch size)",
    )
    args = parser.parse_args(argv)
    check_model_analysis_arguments(parser, args, ANALYSIS_NAME)
    if not 0 < args.crop_fraction <= 1:
        parser.error(f'--crop-fraction must be in (0, 1], got {args.crop_fraction}')
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f'--batch-size must be at least 1, got {args.batch_size}')
    return args


def main(argv=None) -> dict:
    """Runs the analysis; returns what is written to the JSON file."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    data_root = args.data_root or cfg.test_dataloader.dataset.data_root
    batch_size = args.batch_size or cfg.test_dataloader.get('batch_size', 32)
    work_dir = args.work_dir

    dataset = BGChallengeTestDataset(
        data_root=data_root,
        splits=[args.split],
        subset=args.subset,
        serialize_data=False,
    )
    paths = [info['img_path'] for info in dataset.data_list]
    labels = [int(info['gt_label']) for info in dataset.data_list]
    runner = ClassifierRunner(cfg, args.checkpoint, device=args.device)
    print(f'Classifying {len(paths)} {args.split} images in {len(VIEWS)} views')

    def predict(images):
        return runner(images, batch_size=batch_size).pred_labels

    # Each image gives six views, so a chunk of batch_size // 6 images fills
    # about one forward pass.
    predictions = predict_positional_views(
        paths,
        predict,
        crop_fraction=args.crop_fraction,
        images_per_call=max(1, batch_size // len(VIEWS)),
    )
    results = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        data_root=data_root,
        split=args.split,
        crop_fraction=args.crop_fraction,
        num_images=len(paths),
        **positional_shift_accuracies(labels, predictions),
        images=[
            dict(
                path=path,
                label=label,
                predictions={view: int(predictions[view][row]) for view in VIEWS},
            )
            for row, (path, label) in enumerate(zip(paths, labels))
        ],
    )
    mmengine.mkdir_or_exist(work_dir)
    out_path = osp.join(
        work_dir, f'{ANALYSIS_NAME}_{time.strftime("%Y%m%d_%H%M%S")}.json'
    )
    if osp.exists(out_path):
        # Named by the second it was started: another run started with it.
        raise OutputExistsError(f'{out_path} exists; run again in a second')
    write_json_atomically(out_path, results, indent=1)
    print(format_positional_shift_table(results))
    print(f'Results written to {out_path}')
    return results


if __name__ == '__main__':
    run_tool(main)
