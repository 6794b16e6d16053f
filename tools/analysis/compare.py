"""Compare Background Challenge results of several models (CLAD Table 2, Fig. 5).

Reads the ``bg_challenge.json`` files that ``tools/test.py`` writes and
produces the paper's Table 2 layout as Markdown (printed and saved) and CSV,
the same numbers as JSON, and the MIXED-SAME vs MIXED-RAND scatter plot with
the identity line as PNG.

Example::

    python tools/analysis/compare.py \
        work_dirs/baseline/test/*/bg_challenge.json \
        work_dirs/clad/test/*/bg_challenge.json \
        --names Baseline CLAD --out-dir work_dirs/comparison
"""

import argparse
import json
import os
import os.path as osp

from clad_mm.evaluation.comparison import (
    comparison_columns,
    format_comparison_markdown,
    load_result,
    write_comparison_csv,
)
from clad_mm.visualization.mixed_scatter_plot import plot_mixed_same_vs_rand

OUTPUT_NAMES = (
    'comparison.md',
    'comparison.csv',
    'comparison.json',
    'mixed_scatter.png',
)


def parse_args():
    parser = argparse.ArgumentParser(description='Compare Background Challenge results')
    parser.add_argument('results', nargs='+', help='bg_challenge.json files')
    parser.add_argument('--names', nargs='+', help='one model name per result file')
    parser.add_argument(
        '--out-dir', default='work_dirs/comparison', help='folder for the report files'
    )
    parser.add_argument(
        '--all-splits',
        action='store_true',
        help="every split present, not only the paper's Table 2 columns",
    )
    parser.add_argument(
        '--overwrite', action='store_true', help='replace report files that exist'
    )
    args = parser.parse_args()
    if args.names is not None and len(args.names) != len(args.results):
        parser.error(
            f'--names has {len(args.names)} names for {len(args.results)} result files'
        )
    existing = [n for n in OUTPUT_NAMES if osp.exists(osp.join(args.out_dir, n))]
    if existing and not args.overwrite:
        parser.error(
            f'{args.out_dir} already holds {", ".join(existing)}; '
            'pass --overwrite to replace them or choose another --out-dir'
        )
    return args


def main():
    args = parse_args()
    names = args.names or [None] * len(args.results)
    try:
        results = [load_result(p, n) for p, n in zip(args.results, names, strict=True)]
    except (OSError, ValueError) as error:
        raise SystemExit(f'error: {error}') from error
    columns = comparison_columns(results, all_splits=args.all_splits)
    table = format_comparison_markdown(results, columns)
    os.makedirs(args.out_dir, exist_ok=True)
    paths = dict(zip(OUTPUT_NAMES, (osp.join(args.out_dir, n) for n in OUTPUT_NAMES)))
    with open(paths['comparison.md'], 'w') as f:
        f.write(table + '\n')
    write_comparison_csv(results, columns, paths['comparison.csv'])
    with open(paths['comparison.json'], 'w') as f:
        json.dump(results, f, indent=2)

    plotted = [r for r in results if {'mixed_same', 'mixed_rand'} <= set(r['metrics'])]
    print(table)
    for result in results:
        if result not in plotted:
            print(f'{result["name"]} has no MIXED-SAME/MIXED-RAND pair: not plotted')
    if plotted:
        plot_mixed_same_vs_rand(
            [r['name'] for r in plotted],
            [r['metrics']['mixed_same'] for r in plotted],
            [r['metrics']['mixed_rand'] for r in plotted],
            paths['mixed_scatter.png'],
        )
    written = [p for p in paths.values() if osp.exists(p)]
    print('Written: ' + ', '.join(written))


if __name__ == '__main__':
    main()
