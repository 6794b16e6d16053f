"""Tools never replace a file the user named unless asked (issue 13 §3).

Each tool refuses an existing output before any work, with one line naming
the file and ``--overwrite``, exit status 1 and the file left byte for byte
as it was. The refusal comes first, so these run in-process and need no
model, data or checkpoint: the other inputs only have to pass the checks
that come before it.
"""

import os.path as osp

import pytest

from clad_mm.utils.errors import OutputExistsError

TOOLS_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools')
EARLIER_RESULT = b'{"accuracy/top1": 91.25}\n'


@pytest.fixture
def earlier(tmp_path):
    """An earlier result the user would lose."""
    path = tmp_path / 'earlier.json'
    path.write_bytes(EARLIER_RESULT)
    return path


def test_test_py_refuses_an_existing_out_before_building_anything(
    run_cli, tmp_path, earlier
):
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'not read: the refusal comes first')
    # The config does not exist: reading it would end in another error.
    result = run_cli(
        'test.py',
        tmp_path / 'missing_config.py',
        checkpoint,
        '--out',
        earlier,
        '--out-item',
        'metrics',
    )
    result.assert_user_error(str(earlier), '--overwrite')
    assert 'missing_config' not in result.stderr
    assert earlier.read_bytes() == EARLIER_RESULT


def test_test_py_refuses_an_out_format_it_cannot_write(run_cli, tmp_path):
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'')
    result = run_cli(
        'test.py', tmp_path / 'c.py', checkpoint, '--out', tmp_path / 'preds.json'
    )
    result.assert_user_error('--out', 'preds.json', '.pkl', status=2)


def test_compare_refuses_an_out_dir_holding_an_earlier_report(run_cli, tmp_path):
    out_dir = tmp_path / 'report'
    out_dir.mkdir()
    (out_dir / 'comparison.md').write_text('earlier table\n')
    (out_dir / 'notes.txt').write_text('not a report file')
    result = run_cli('analysis/compare.py', tmp_path / 'a.json', '--out-dir', out_dir)
    result.assert_user_error(str(out_dir / 'comparison.md'), '--overwrite')
    assert 'notes.txt' not in result.error_line
    assert (out_dir / 'comparison.md').read_text() == 'earlier table\n'


def test_saliency_refuses_an_existing_json_beside_the_grid(run_cli, tmp_path):
    inputs = {name: tmp_path / name for name in ('m.py', 'm.pth', 'image.png')}
    for path in inputs.values():
        path.write_bytes(b'')
    out = tmp_path / 'grid.png'
    (tmp_path / 'grid.json').write_bytes(EARLIER_RESULT)
    result = run_cli(
        'analysis/saliency.py',
        '--model',
        'base',
        inputs['m.py'],
        inputs['m.pth'],
        '--images',
        inputs['image.png'],
        '--out',
        out,
    )
    result.assert_user_error(str(tmp_path / 'grid.json'), '--overwrite')
    assert (tmp_path / 'grid.json').read_bytes() == EARLIER_RESULT
    assert not out.exists()


def test_split_preview_refuses_an_existing_png(run_cli, tmp_path):
    out = tmp_path / 'preview.png'
    out.write_bytes(b'earlier png')
    result = run_cli(
        'analysis/split_preview.py', tmp_path, '--splits', 'original', '--out', out
    )
    result.assert_user_error(str(out), '--overwrite')
    assert out.read_bytes() == b'earlier png'


@pytest.mark.parametrize(
    'tool, args',
    [
        ('data/mask_quality.py', ['pred', 'gt']),
        ('analysis/benchmark_background_swap.py', []),
        ('analysis/benchmark_clad_step.py', []),
    ],
)
def test_tools_with_a_json_out_refuse_an_existing_one(run_cli, earlier, tool, args):
    run_cli(tool, *args, '--out', earlier).assert_user_error(
        str(earlier), '--overwrite'
    )
    assert earlier.read_bytes() == EARLIER_RESULT


def test_require_new_output_names_every_existing_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(TOOLS_DIR)
    from tool_utils import require_new_output

    present = [tmp_path / 'a.png', tmp_path / 'b.json']
    for path in present:
        path.write_bytes(b'')
    with pytest.raises(OutputExistsError) as error:
        require_new_output(
            [str(tmp_path / 'new.csv'), *map(str, present)], overwrite=False
        )
    assert str(error.value).startswith(f'{present[0]}, {present[1]} already exist;')
    assert 'new.csv' not in str(error.value)
    require_new_output([str(path) for path in present], overwrite=True)
    require_new_output(str(tmp_path / 'new.csv'), overwrite=False)
