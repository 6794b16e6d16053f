import csv
import json

import cv2
import pytest

from clad_mm.analysis.comparison import (
    average_runs,
    comparison_columns,
    format_comparison_markdown,
    group_columns,
    load_result,
    retrieval_columns,
    write_comparison_csv,
)
from clad_mm.visualization.mixed_scatter_plot import plot_mixed_same_vs_rand

COMPARE = 'analysis/compare.py'


def _write_result(path, config, **accuracies):
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(config=config, checkpoint='epoch_1.pth')
    content.update({f'bg_challenge/{k}': v for k, v in accuracies.items()})
    path.write_text(json.dumps(content))
    return path


BASELINE = dict(
    original=91.7,
    only_fg=55.85,
    only_bg_t=60.74,
    mixed_same=86.96,
    mixed_rand=55.26,
    mixed_next=48.74,
    bg_gap=31.7,
)
CLAD = dict(original=95.56, only_fg=80.15, mixed_same=93.04, mixed_rand=73.04)


def _table_rows(markdown):
    rows = [line.strip('|').split('|') for line in markdown.splitlines()]
    header = [cell.strip() for cell in rows[0]]
    return [dict(zip(header, (c.strip() for c in row))) for row in rows[2:]]


def test_load_result_names_model_by_config_stem(tmp_path):
    path = _write_result(
        tmp_path / 'bg_challenge.json', 'configs/clad/resnet18_synbg_clad.py', **CLAD
    )
    result = load_result(str(path))
    assert result['name'] == 'resnet18_synbg_clad'
    assert result['metrics'] == CLAD
    assert load_result(str(path), name='CLAD')['name'] == 'CLAD'


def test_load_result_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_result(str(tmp_path / 'missing.json'))
    broken = tmp_path / 'broken.json'
    broken.write_text('{"bg_challenge/original": ')
    with pytest.raises(ValueError, match='broken.json'):
        load_result(str(broken))
    unrelated = tmp_path / 'unrelated.json'
    unrelated.write_text('{"accuracy/top1": 50.0}')
    with pytest.raises(ValueError, match='unrelated.json'):
        load_result(str(unrelated))


def test_markdown_table_puts_each_value_under_its_split(tmp_path):
    results = [
        dict(name='Baseline', path='', metrics=BASELINE),
        dict(name='CLAD', path='', metrics=CLAD),
    ]
    rows = _table_rows(format_comparison_markdown(results, comparison_columns(results)))
    assert [row['model'] for row in rows] == ['Baseline', 'CLAD']
    assert rows[0]['MIXED-RAND'] == '55.26'
    assert rows[0]['ONLY-BG-T ↓'] == '60.74'
    assert rows[0]['BG-GAP ↓'] == '31.70'
    assert rows[1]['MIXED-SAME'] == '93.04'
    assert rows[1]['ONLY-BG-T ↓'] == '–'  # absent from that result
    assert 'MIXED-NEXT' not in rows[0]  # not a Table 2 column


def test_all_splits_follow_challenge_order_then_gap():
    results = [
        dict(name='a', path='', metrics=dict(mixed_rand=1.0, original=2.0, bg_gap=3.0)),
        dict(name='b', path='', metrics=dict(only_fg=4.0, my_split=5.0)),
    ]
    keys = [key for key, _ in comparison_columns(results, all_splits=True)]
    assert keys == ['original', 'only_fg', 'mixed_rand', 'my_split', 'bg_gap']


def test_paper_columns_are_those_some_result_holds():
    results = [
        dict(name='a', path='', metrics=dict(mixed_rand=1.0, original=2.0)),
        dict(name='b', path='', metrics=dict(only_bg_t=4.0, mixed_next=5.0)),
    ]
    assert comparison_columns(results) == [
        ('original', 'ORIGINAL'),
        ('mixed_rand', 'MIXED-RAND'),
        ('only_bg_t', 'ONLY-BG-T ↓'),
    ]
    # None of Table 2's columns: every split rather than an empty table.
    only_next = [dict(name='c', path='', metrics=dict(mixed_next=5.0))]
    assert comparison_columns(only_next) == [('mixed_next', 'MIXED-NEXT')]


def test_csv_holds_the_same_numbers(tmp_path):
    results = [dict(name='Baseline', path='', metrics=BASELINE)]
    columns = comparison_columns(results, all_splits=True)
    path = write_comparison_csv(results, columns, str(tmp_path / 'table.csv'))
    with open(path) as f:
        (row,) = list(csv.DictReader(f))
    assert row.pop('model') == 'Baseline'
    assert {key: float(value) for key, value in row.items()} == BASELINE


def test_scatter_plot_is_a_png_of_the_requested_size(tmp_path):
    out_path = str(tmp_path / 's.png')
    path = plot_mixed_same_vs_rand(
        ['a', 'b'], [86.9, 93.0], [55.2, 73.0], out_path, size_px=(500, 400)
    )
    image = cv2.imread(path)
    assert image is not None and image.shape[:2] == (400, 500)
    with pytest.raises(ValueError, match='2 names, 1 MIXED-SAME'):
        plot_mixed_same_vs_rand(['a', 'b'], [1.0], [1.0, 2.0], str(tmp_path / 'x.png'))


def test_compare_tool_writes_report_and_refuses_to_overwrite(tmp_path, run_cli):
    baseline = _write_result(tmp_path / 'b/bg_challenge.json', 'base.py', **BASELINE)
    clad = _write_result(tmp_path / 'c/bg_challenge.json', 'clad.py', **CLAD)
    out_dir = tmp_path / 'report'
    done = run_cli(
        COMPARE, baseline, clad, '--names', 'Base', 'CLAD', '--out-dir', out_dir
    )
    assert done.status == 0, done.stderr
    assert '| CLAD | 95.56 | 80.15 | 73.04 | 93.04 | – | – |' in done.stdout
    assert (out_dir / 'comparison.md').read_text().strip() in done.stdout
    saved = json.loads((out_dir / 'comparison.json').read_text())
    assert [r['metrics'] for r in saved] == [BASELINE, CLAD]
    assert cv2.imread(str(out_dir / 'mixed_scatter.png')).shape[:2] == (600, 600)

    again = run_cli(COMPARE, baseline, clad, '--out-dir', out_dir)
    assert again.status != 0 and '--overwrite' in again.stderr
    replaced = run_cli(COMPARE, baseline, clad, '--out-dir', out_dir, '--overwrite')
    assert replaced.status == 0, replaced.stderr


def test_compare_tool_rejects_wrong_number_of_names(tmp_path, run_cli):
    baseline = _write_result(tmp_path / 'b.json', 'base.py', **BASELINE)
    done = run_cli(COMPARE, baseline, '--names', 'a', 'b', '--out-dir', tmp_path / 'r')
    assert done.status != 0
    assert '--names has 2 names for 1 result files' in done.stderr


def _seed_results(tmp_path):
    # Three seeds of one config (named by its stem), one run of another.
    runs = [
        dict(original=90.0, mixed_same=80.0, mixed_rand=70.0, bg_gap=10.0),
        dict(original=94.0, mixed_same=82.0, mixed_rand=76.0, bg_gap=6.0),
        dict(original=95.0, mixed_same=84.0, mixed_rand=76.0, bg_gap=8.0),
    ]
    paths = [
        _write_result(tmp_path / f'seed{i}/bg_challenge.json', 'clad.py', **run)
        for i, run in enumerate(runs)
    ]
    other = _write_result(tmp_path / 'base/bg_challenge.json', 'base.py', **runs[0])
    return paths, other


def test_runs_of_one_name_average_to_mean_and_sample_std(tmp_path):
    paths, other = _seed_results(tmp_path)
    results = average_runs([load_result(str(p)) for p in [*paths, other]])
    assert [r['name'] for r in results] == ['clad', 'base']
    clad, base = results
    # By hand: ORIGINAL 90, 94, 95: mean 93, deviations -3, 1, 2, sum of
    # squares 14, sample variance 14 / 2 = 7; MIXED-RAND 70, 76, 76: mean 74,
    # sum of squares 16 + 4 + 4 = 24, variance 12; BG-GAP 10, 6, 8: mean 8, variance 4.
    assert clad['runs'] == 3
    assert clad['metrics']['original'] == pytest.approx(93.0)
    assert clad['std']['original'] == pytest.approx(7**0.5)
    assert clad['metrics']['mixed_rand'] == pytest.approx(74.0)
    assert clad['std']['mixed_rand'] == pytest.approx(12**0.5)
    assert clad['std']['bg_gap'] == pytest.approx(2.0)
    assert clad['values']['original'] == [90.0, 94.0, 95.0]
    assert 'std' not in base and 'runs' not in base
    rows = _table_rows(format_comparison_markdown(results, comparison_columns(results)))
    assert rows[0]['runs'] == '3' and rows[0]['ORIGINAL'] == '93.00 ± 2.65'
    assert rows[1]['runs'] == '1' and rows[1]['ORIGINAL'] == '90.00'


def test_runs_of_one_name_must_hold_the_same_splits(tmp_path):
    paths, _ = _seed_results(tmp_path)
    fewer = _write_result(tmp_path / 'seed3/bg_challenge.json', 'clad.py', original=1.0)
    with pytest.raises(ValueError, match='seed3'):
        average_runs([load_result(str(p)) for p in [*paths, fewer]])


def test_compare_tool_averages_runs_only_when_asked(tmp_path, run_cli):
    paths, other = _seed_results(tmp_path)
    refused = run_cli(COMPARE, *paths, other, '--out-dir', tmp_path / 'r1')
    assert refused.status == 1 and 'Traceback' not in refused.stderr
    assert "named 'clad'" in refused.stderr and '--average-runs' in refused.stderr
    done = run_cli(
        COMPARE, *paths, other, '--average-runs', '--out-dir', tmp_path / 'r2'
    )
    assert done.status == 0, done.stderr
    assert '| clad | 3 | 93.00 ± 2.65 |' in done.stdout
    with open(tmp_path / 'r2/comparison.csv') as f:
        rows = list(csv.DictReader(f))
    assert float(rows[0]['original_std']) == pytest.approx(7**0.5)
    saved = json.loads((tmp_path / 'r2/comparison.json').read_text())
    assert saved[0]['values']['bg_gap'] == [10.0, 6.0, 8.0]


def test_averaging_refuses_results_named_only_by_their_folder(tmp_path):
    # tools/test.py --out FILE --out-item metrics records no config: two
    # models tested into test/ folders would both be named 'test'.
    for model in ('base', 'clad'):
        path = tmp_path / model / 'test' / 'bg_challenge.json'
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({'bg_challenge/original': 90.0}))
    results = [load_result(str(p)) for p in sorted(tmp_path.glob('*/test/*.json'))]
    assert [r['name'] for r in results] == ['test', 'test']
    with pytest.raises(ValueError, match=r'records no config.*--names'):
        average_runs(results)
    named = [load_result(str(r['path']), name) for r, name in zip(results, 'ab')]
    assert [r['name'] for r in average_runs(named)] == ['a', 'b']


def _write_metrics(path, config, prefix, **figures):
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(config=config, checkpoint='epoch_8.pth')
    content.update({f'{prefix}/{k}': v for k, v in figures.items()})
    path.write_text(json.dumps(content))
    return path


def test_retrieval_results_show_replaced_figures_with_their_draw_spread(tmp_path):
    figures = {
        'clean/MAP@R': 93.43,
        'replaced/MAP@R': 7.6,
        'replaced/MAP@R_std': 0.83,
        'clean/P@1': 98.96,
        'replaced/P@1': 18.82,
        'replaced/P@1_std': 2.48,
        'replaced/num_draws': 5,
    }
    path = _write_metrics(
        tmp_path / 'retrieval.json', 'configs/x/base.py', 'retrieval', **figures
    )
    result = load_result(str(path))
    assert result['kind'] == 'retrieval' and result['name'] == 'base'
    columns = retrieval_columns([result])
    assert [key for key, _ in columns] == [
        'clean/MAP@R',
        'replaced/MAP@R',
        'clean/P@1',
        'replaced/P@1',
    ]
    row = _table_rows(format_comparison_markdown([result], columns))[0]
    assert row['MAP@R clean'] == '93.43' and row['MAP@R replaced'] == '7.60 ± 0.83'


def test_group_results_give_the_named_figures_then_every_group(tmp_path):
    figures = {
        'accuracy/overall': 69.5,
        'accuracy/group_0': 98.5,
        'accuracy/group_1': 34.0,
        'accuracy/group_3': 94.5,  # group 2 had no test image: absent
        'unweighted_group_mean': 75.67,
        'train_weighted_mean': 93.8,
        'worst_group': 34.0,
        'worst_group_index': 1,
    }
    path = _write_metrics(
        tmp_path / 'group.json', 'configs/x/erm.py', 'group', **figures
    )
    result = load_result(str(path))
    assert result['kind'] == 'group'
    columns = group_columns([result])
    assert [title for _, title in columns] == [
        'overall',
        'worst group',
        'unweighted group mean',
        'train-weighted mean',
        'group 0',
        'group 1',
        'group 3',
    ]
    row = _table_rows(format_comparison_markdown([result], columns))[0]
    assert row['worst group'] == '34.00' and row['group 3'] == '94.50'


def test_results_of_different_kinds_are_not_averaged_together(tmp_path):
    group = _write_metrics(
        tmp_path / 'a/group.json', 'configs/x/m.py', 'group', worst_group=1.0
    )
    retrieval = _write_metrics(
        tmp_path / 'b/retrieval.json',
        'configs/x/m.py',
        'retrieval',
        **{'clean/MAP@R': 1.0},
    )
    with pytest.raises(ValueError, match='cannot average'):
        average_runs([load_result(str(group)), load_result(str(retrieval))])
