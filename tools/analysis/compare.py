"""Compare test results of several models (CLAD Table 2 and Fig. 5; BGAugment Table 1).

Reads the ``bg_challenge.json`` files that ``tools/test.py`` writes and
produces the paper's Table 2 layout as Markdown (printed and saved) and CSV,
the same numbers as JSON, and the MIXED-SAME vs MIXED-RAND scatter plot with
the identity line as PNG. When the results hold texture-bias splits
(``stylized``, ``sketch``, ``random_texture``, ``outline``,
``only_texture``), a second "texture / shape bias" table (S-CLAD's Table 7:
each split and its drop from ORIGINAL) is added to the Markdown and written
as ``shape_bias.csv``, ``shape_bias.json`` and a grouped bar chart
``shape_bias.png``; the Background Challenge table
is then only written if the results hold background splits.

Example::

    python tools/analysis/compare.py \
        work_dirs/baseline/test/*/bg_challenge.json \
        work_dirs/clad/test/*/bg_challenge.json \
        --names Baseline CLAD --out-dir work_dirs/comparison

Group-robustness results (``group.json``) give one row per model with the
overall, worst-group, unweighted-mean and train-weighted-mean accuracy and
every group's. Retrieval results (the ``retrieval.json`` files of
metric-learning models)
give one table instead: MAP@R, P@1 and R-Precision on the clean and on the
background-replaced test set, each replaced figure ``mean ± std`` over its
background draws (over runs with ``--average-runs``)::

    python tools/analysis/compare.py \
        work_dirs/base/test/*/retrieval.json work_dirs/bgaugment/test/*/retrieval.json \
        --names Base BGAugment --out-dir work_dirs/dml_comparison

With ``--average-runs``, results that share a name (given by ``--names`` or
taken from their config) are runs of one model, e.g. over seeds: one row
each, ``mean ± std`` (sample standard deviation) and the number of runs;
the plots show the means. Without it, two results of one name are refused.
"""

import argparse
import os
import os.path as osp
import sys

from clad_mm.analysis.comparison import (
    average_runs,
    comparison_columns,
    format_comparison_markdown,
    group_columns,
    has_background_results,
    load_result,
    retrieval_columns,
    write_comparison_csv,
)
from clad_mm.analysis.shape_bias import shape_bias_columns, shape_bias_records
from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import write_atomically, write_json_atomically
from clad_mm.visualization.agg_figure import save_figure_atomically
from clad_mm.visualization.mixed_scatter_plot import plot_mixed_same_vs_rand
from clad_mm.visualization.shape_bias_plot import draw_results_shape_bias

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool

OUTPUT_NAMES = (
    'comparison.md',
    'comparison.csv',
    'comparison.json',
    'mixed_scatter.png',
    'shape_bias.csv',
    'shape_bias.json',
    'shape_bias.png',
)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Compare Background Challenge or retrieval results'
    )
    parser.add_argument(
        'results',
        nargs='+',
        help='bg_challenge.json, retrieval.json or group.json files',
    )
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
        '--average-runs',
        action='store_true',
        help='results of one name are runs of one model (seeds): report mean ± std',
    )
    add_overwrite_argument(parser, 'the report files of an earlier run in --out-dir')
    args = parser.parse_args()
    if args.names is not None and len(args.names) != len(args.results):
        parser.error(
            f'--names has {len(args.names)} names for {len(args.results)} result files'
        )
    require_new_output(
        [osp.join(args.out_dir, name) for name in OUTPUT_NAMES], args.overwrite
    )
    return args


def main():
    args = parse_args()
    names = args.names or [None] * len(args.results)
    results = [load_result(p, n) for p, n in zip(args.results, names, strict=True)]
    if args.average_runs:
        results = average_runs(results)
    else:
        seen = {}
        for result in results:
            if result['name'] in seen:
                raise UserError(
                    f'{seen[result["name"]]} and {result["path"]} are both named '
                    f'{result["name"]!r}: give --names, or --average-runs to '
                    'report runs of one model (seeds) as mean ± std'
                )
            seen[result['name']] = result['path']
    os.makedirs(args.out_dir, exist_ok=True)
    paths = dict(zip(OUTPUT_NAMES, (osp.join(args.out_dir, n) for n in OUTPUT_NAMES)))
    # Outputs of an earlier run that this one does not write would be stale.
    for path in paths.values():
        if osp.isfile(path):
            os.remove(path)
    kinds = {result['kind'] for result in results}
    if len(kinds) > 1:
        raise UserError(
            'the result files mix kinds of results (Background Challenge, '
            'retrieval, group robustness); compare each kind on its own'
        )
    sections = []
    texture_columns = (
        [] if kinds & {'retrieval', 'group'} else shape_bias_columns(results)
    )
    if kinds == {'group'}:
        columns = group_columns(results)
        table = format_comparison_markdown(results, columns)
        sections.append(('Group robustness (test accuracy, %)', table))
        write_comparison_csv(results, columns, paths['comparison.csv'])
    elif kinds == {'retrieval'}:
        columns = retrieval_columns(results)
        table = format_comparison_markdown(results, columns)
        sections.append(('Retrieval: clean / background-replaced test set', table))
        write_comparison_csv(results, columns, paths['comparison.csv'])
    elif has_background_results(results) or not texture_columns:
        columns = comparison_columns(results, all_splits=args.all_splits)
        table = format_comparison_markdown(results, columns)
        sections.append(('Background Challenge', table))
        write_comparison_csv(results, columns, paths['comparison.csv'])
    if texture_columns:
        records = shape_bias_records(results)
        table = format_comparison_markdown(records, texture_columns)
        sections.append(('Texture / shape bias', table))
        write_comparison_csv(records, texture_columns, paths['shape_bias.csv'])
        write_json_atomically(paths['shape_bias.json'], records, indent=2)
        save_figure_atomically(
            draw_results_shape_bias(results), paths['shape_bias.png'], dpi=100
        )
    report = '\n\n'.join(f'### {title}\n\n{table}' for title, table in sections)
    write_atomically(paths['comparison.md'], report + '\n')
    write_json_atomically(paths['comparison.json'], results, indent=2)

    plotted = [r for r in results if {'mixed_same', 'mixed_rand'} <= set(r['metrics'])]
    print(report)
    for result in results:
        if (
            result['kind'] == 'bg_challenge'
            and result not in plotted
            and has_background_results([result])
        ):
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
    run_tool(main)
