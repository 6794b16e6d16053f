"""Challenge accuracy of a checkpoint on the Background Challenge.

Pastes every test foreground on every ONLY-BG-T test background and counts
the foregrounds that some background makes the model misclassify: the
leaderboard metric of the Background Challenge (Xiao et al., "Noise or
Signal: The Role of Image Backgrounds in Object Recognition", ICLR 2021).
Composites go through the config's test pipeline and data preprocessor, as
images in ``tools/test.py`` do.

Example::

    python tools/analysis/bg_challenge.py \\
        configs/clad/resnet18_synbg_baseline.py \\
        work_dirs/resnet18_synbg_baseline/epoch_12.pth \\
        --max-foregrounds 200 --max-backgrounds 200

prints a table and writes ``bg_challenge_adversarial.json`` to
``work_dirs/<config name>/bg_challenge_adversarial`` (or ``--work-dir``).
An interrupted run resumes when started again with the same arguments.
"""

import argparse
import os.path as osp
import sys

from mmengine.config import Config

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.analysis.adversarial_backgrounds import (
    RESULT_FILE,
    format_adversarial_table,
    run_adversarial_backgrounds,
)

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import (
    add_model_analysis_arguments,
    check_model_analysis_arguments,
    positive_int,
    run_tool,
)

ANALYSIS_NAME = 'bg_challenge_adversarial'
#: Adversarial-background accuracy of an ImageNet ResNet-50 (leaderboard).
LEADERBOARD_RESNET50 = 22.3


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Background Challenge challenge accuracy: every foreground '
        'on every ONLY-BG-T background'
    )
    add_model_analysis_arguments(parser, ANALYSIS_NAME)
    parser.add_argument(
        '--batch-size', type=positive_int, default=64, help='composites per batch'
    )
    parser.add_argument(
        '--max-foregrounds',
        type=positive_int,
        help='evaluate a random subset of this many foregrounds',
    )
    parser.add_argument(
        '--max-backgrounds',
        type=positive_int,
        help='paste on a random subset of this many backgrounds',
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the subsets')
    args = parser.parse_args(argv)
    check_model_analysis_arguments(parser, args, ANALYSIS_NAME)
    return args


def main(argv=None) -> dict:
    """Runs the evaluation, prints the table and writes the JSON.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        dict: The report written to the JSON file.
    """
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    work_dir = args.work_dir
    report = run_adversarial_backgrounds(
        cfg,
        args.checkpoint,
        work_dir,
        test_root=args.data_root,
        batch_size=args.batch_size,
        max_foregrounds=args.max_foregrounds,
        max_backgrounds=args.max_backgrounds,
        seed=args.seed,
        device=args.device,
    )
    print(format_adversarial_table(report))
    print(f'(leaderboard: an ImageNet ResNet-50 scores {LEADERBOARD_RESNET50} %)')
    print(f'Results written to {osp.join(work_dir, RESULT_FILE)}')
    return report


if __name__ == '__main__':
    run_tool(main)
