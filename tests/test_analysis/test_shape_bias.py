"""Tests of the texture / shape-bias report (S-CLAD's Table 7).

Expected drops are worked out by hand from the accuracies that S-CLAD's
Table 7 reports for its models and from made-up SynBG texture results.
"""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import cv2
import pytest

from clad_mm.analysis.comparison import (
    comparison_columns,
    format_comparison_markdown,
    has_background_results,
    write_comparison_csv,
)
from clad_mm.analysis.shape_bias import (
    accuracy_drops,
    shape_bias_columns,
    shape_bias_records,
    texture_splits_present,
)
from clad_mm.utils.errors import OutputExistsError
from clad_mm.visualization.shape_bias_plot import plot_shape_bias

REPO = Path(__file__).resolve().parents[2]

# Paper Table 7 (ORIGINAL / STYLIZED-IN9 / IN9-SKETCH).
BASE = dict(original=96.0, stylized=53.6, sketch=40.1)
S_CLAD = dict(original=95.1, stylized=74.4, sketch=61.0)
S_CLAD_PLUS = dict(original=95.5, stylized=76.7, sketch=58.6)
# Made-up SynBG texture-variant results; the split order is scrambled.
SYNBG = dict(only_texture=70.0, outline=40.5, original=98.25, random_texture=30.0)


def _result(name, **metrics):
    return dict(name=name, path=f'{name}/bg_challenge.json', metrics=metrics)


def _table_rows(markdown):
    rows = [line.strip('|').split('|') for line in markdown.splitlines()]
    header = [cell.strip() for cell in rows[0]]
    return [dict(zip(header, (c.strip() for c in row))) for row in rows[2:]]


def test_drops_of_the_paper_table_7_models():
    # 96.0 - 53.6 = 42.4, 96.0 - 40.1 = 55.9; 95.1 - 74.4 = 20.7, ...
    assert accuracy_drops(BASE) == pytest.approx(
        dict(drop_stylized=42.4, drop_sketch=55.9)
    )
    assert accuracy_drops(S_CLAD) == pytest.approx(
        dict(drop_stylized=20.7, drop_sketch=34.1)
    )
    assert accuracy_drops(S_CLAD_PLUS) == pytest.approx(
        dict(drop_stylized=18.8, drop_sketch=36.9)
    )


def test_drops_of_synbg_splits_in_fixed_order():
    drops = accuracy_drops(SYNBG)
    assert list(drops) == ['drop_random_texture', 'drop_outline', 'drop_only_texture']
    assert drops == pytest.approx(
        dict(drop_random_texture=68.25, drop_outline=57.75, drop_only_texture=28.25)
    )
    # No drop without ORIGINAL; background splits never get one.
    assert accuracy_drops(dict(stylized=50.0)) == {}
    assert accuracy_drops(dict(original=90.0, mixed_rand=80.0)) == {}


def test_in9_table_rows_hold_accuracies_and_drops():
    results = [
        _result('Base', **BASE),
        _result('S-CLAD', **S_CLAD),
        _result('S-CLAD+', **S_CLAD_PLUS),
    ]
    columns = shape_bias_columns(results)
    assert columns == [
        ('original', 'ORIGINAL'),
        ('stylized', 'STYLIZED-IN9'),
        ('sketch', 'IN9-SKETCH'),
        ('drop_stylized', 'ORIGINAL − STYLIZED-IN9 ↓'),
        ('drop_sketch', 'ORIGINAL − IN9-SKETCH ↓'),
    ]
    markdown = format_comparison_markdown(shape_bias_records(results), columns)
    lines = markdown.splitlines()
    assert lines[0] == (
        '| model | ORIGINAL | STYLIZED-IN9 | IN9-SKETCH | ORIGINAL − STYLIZED-IN9 ↓ '
        '| ORIGINAL − IN9-SKETCH ↓ |'
    )
    assert lines[2:] == [
        '| Base | 96.00 | 53.60 | 40.10 | 42.40 | 55.90 |',
        '| S-CLAD | 95.10 | 74.40 | 61.00 | 20.70 | 34.10 |',
        '| S-CLAD+ | 95.50 | 76.70 | 58.60 | 18.80 | 36.90 |',
    ]


def test_synbg_columns_mark_the_texture_only_split():
    results = [_result('baseline', **SYNBG)]
    titles = dict(shape_bias_columns(results))
    assert list(titles) == [
        'original',
        'random_texture',
        'outline',
        'only_texture',
        'drop_random_texture',
        'drop_outline',
        'drop_only_texture',
    ]
    # Lower is better on ONLY-TEXTURE, so its drop is better when higher.
    assert titles['only_texture'] == 'ONLY-TEXTURE ↓'
    assert titles['drop_only_texture'] == 'ORIGINAL − ONLY-TEXTURE ↑'
    assert titles['drop_outline'] == 'ORIGINAL − OUTLINE ↓'
    (row,) = _table_rows(
        format_comparison_markdown(
            shape_bias_records(results), shape_bias_columns(results)
        )
    )
    assert row['RANDOM-TEXTURE'] == '30.00'
    assert row['ORIGINAL − RANDOM-TEXTURE ↓'] == '68.25'
    assert row['ORIGINAL − ONLY-TEXTURE ↑'] == '28.25'


def test_absent_splits_are_omitted_or_dashed():
    results = [
        # Sketch not evaluated; background splits are not part of this table.
        _result('a', original=90.0, stylized=60.0, mixed_rand=70.0),
        # No ORIGINAL: no drops for this model.
        _result('b', stylized=55.0, sketch=45.0),
    ]
    assert texture_splits_present(results) == ['stylized', 'sketch']
    keys = [key for key, _ in shape_bias_columns(results)]
    assert keys == ['original', 'stylized', 'sketch', 'drop_stylized', 'drop_sketch']
    records = shape_bias_records(results)
    assert records[0]['metrics'] == dict(
        original=90.0, stylized=60.0, drop_stylized=30.0
    )
    assert records[1]['metrics'] == dict(stylized=55.0, sketch=45.0)
    rows = _table_rows(format_comparison_markdown(records, shape_bias_columns(results)))
    assert rows[0]['IN9-SKETCH'] == '–' and rows[0]['ORIGINAL − IN9-SKETCH ↓'] == '–'
    assert rows[1]['ORIGINAL'] == '–' and rows[1]['ORIGINAL − STYLIZED-IN9 ↓'] == '–'
    # Without ORIGINAL anywhere, there is nothing to drop from.
    only_texture = [_result('c', stylized=55.0)]
    assert shape_bias_columns(only_texture) == [('stylized', 'STYLIZED-IN9')]
    # Without texture splits there is no table.
    assert shape_bias_columns([_result('d', original=90.0, mixed_rand=70.0)]) == []


def test_csv_holds_the_table_values(tmp_path):
    results = [_result('Base', **BASE), _result('x', original=80.0, sketch=30.0)]
    columns = shape_bias_columns(results)
    path = write_comparison_csv(
        shape_bias_records(results), columns, str(tmp_path / 'shape_bias.csv')
    )
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert float(rows[0]['drop_sketch']) == pytest.approx(55.9)
    assert float(rows[1]['drop_sketch']) == pytest.approx(50.0)
    assert rows[1]['stylized'] == '' and rows[1]['drop_stylized'] == ''


def test_background_table_keeps_to_background_splits():
    mixed = [
        _result('a', original=90.0, mixed_rand=70.0, stylized=50.0, bg_gap=5.0),
        _result('b', original=91.0, sketch=40.0, my_split=1.0),
    ]
    assert has_background_results(mixed)
    assert [key for key, _ in comparison_columns(mixed)] == [
        'original',
        'mixed_rand',
        'bg_gap',
    ]
    assert [key for key, _ in comparison_columns(mixed, all_splits=True)] == [
        'original',
        'mixed_rand',
        'my_split',
        'bg_gap',
    ]
    assert not has_background_results([_result('c', **BASE)])


def _write_result(path, config, **accuracies):
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(config=config, checkpoint='epoch_1.pth')
    content.update({f'bg_challenge/{k}': v for k, v in accuracies.items()})
    path.write_text(json.dumps(content))
    return path


@pytest.fixture
def run_compare(monkeypatch, capsys):
    """Runs tools/analysis/compare.py in this process and returns its exit
    code and printed output (a new process spends 10 s importing)."""
    spec = importlib.util.spec_from_file_location(
        'compare_tool', REPO / 'tools/analysis/compare.py'
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    def run(*args):
        monkeypatch.setattr(sys, 'argv', ['compare.py', *map(str, args)])
        capsys.readouterr()
        try:
            tool.main()
            code = 0
        except SystemExit as error:
            code = error.code
        return code, capsys.readouterr().out

    return run


def test_compare_tool_adds_the_texture_table(tmp_path, run_compare):
    base = _write_result(tmp_path / 'b.json', 'base.py', **BASE)
    s_clad = _write_result(tmp_path / 's.json', 's_clad.py', **S_CLAD)
    out_dir = tmp_path / 'texture_only'
    code, out = run_compare(
        base, s_clad, '--names', 'Base', 'S-CLAD', '--out-dir', out_dir
    )
    assert code == 0
    assert '### Texture / shape bias' in out
    assert '### Background Challenge' not in out
    assert '| S-CLAD | 95.10 | 74.40 | 61.00 | 20.70 | 34.10 |' in out
    assert (out_dir / 'comparison.md').read_text().strip() in out
    assert not (out_dir / 'comparison.csv').exists()
    assert not (out_dir / 'mixed_scatter.png').exists()
    saved = json.loads((out_dir / 'shape_bias.json').read_text())
    assert [record['name'] for record in saved] == ['Base', 'S-CLAD']
    assert cv2.imread(str(out_dir / 'shape_bias.png')).shape[:2] == (400, 800)
    assert saved[0]['metrics']['drop_sketch'] == pytest.approx(55.9)

    # Background and texture splits in the same files: two tables, and no
    # texture column in the Background Challenge one, even with --all-splits.
    both = _write_result(
        tmp_path / 'both.json',
        'clad.py',
        original=95.0,
        mixed_same=90.0,
        mixed_rand=85.0,
        bg_gap=5.0,
        stylized=70.0,
    )
    out_dir = tmp_path / 'both'
    code, out = run_compare(both, '--all-splits', '--out-dir', out_dir)
    assert code == 0
    background, texture = out.split('### Texture / shape bias')
    assert '| clad | 95.00 | 90.00 | 85.00 | 5.00 |' in background
    assert 'STYLIZED' not in background
    assert '| clad | 95.00 | 70.00 | 25.00 |' in texture
    with open(out_dir / 'shape_bias.csv') as f:
        (row,) = list(csv.DictReader(f))
    assert row == dict(
        model='clad', original='95.0', stylized='70.0', drop_stylized='25.0'
    )
    assert (out_dir / 'comparison.csv').exists()
    assert (out_dir / 'mixed_scatter.png').exists()

    # Replacing a report removes the files the new run does not write.
    with pytest.raises(OutputExistsError, match='comparison.md.*--overwrite'):
        run_compare(base, '--out-dir', out_dir)
    assert run_compare(base, '--out-dir', out_dir, '--overwrite')[0] == 0
    assert not (out_dir / 'comparison.csv').exists()
    assert not (out_dir / 'mixed_scatter.png').exists()


def test_shape_bias_plot_size_and_bad_input(tmp_path):
    out_path = str(tmp_path / 'bars.png')
    plot_shape_bias(
        ['Base', 'S-CLAD'],
        ['ORIGINAL', 'OUTLINE'],
        [[90.0, None], [95.0, 40.0]],
        out_path,
        size_px=(640, 320),
    )
    assert cv2.imread(out_path).shape[:2] == (320, 640)
    with pytest.raises(ValueError, match='one row of 2 values per model'):
        plot_shape_bias(['Base'], ['ORIGINAL', 'OUTLINE'], [[90.0]], out_path)
    with pytest.raises(ValueError, match='nothing to plot'):
        plot_shape_bias([], ['ORIGINAL'], [], out_path)
