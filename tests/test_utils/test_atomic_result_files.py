"""A result file whose writing fails mid-way leaves the earlier file intact.

Each writer below used to stream into its destination (matplotlib's
``savefig(path)``, ``csv.writer`` on an open file, ``mmengine.dump(obj,
path)``), so a failure or a kill in the middle left a truncated file under
the final name. Now each renders into memory and goes through
``clad_mm.utils.fileio.write_atomically``: the earlier file stays byte for
byte, and no temporary is left beside it.
"""

import importlib.util
import os
import os.path as osp
import sys

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from clad_mm.analysis.comparison import write_comparison_csv
from clad_mm.visualization import plot_split_accuracies

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EARLIER = b'the earlier, complete result\n'
METRICS = {'bg_challenge/original': 90.0, 'bg_challenge/only_fg': 70.0}


@pytest.fixture
def earlier(tmp_path):
    def make(name):
        path = tmp_path / name
        path.write_bytes(EARLIER)
        return path

    return make


def _assert_untouched(path):
    assert path.read_bytes() == EARLIER
    assert os.listdir(path.parent) == [path.name]


def test_a_plot_failing_while_encoded_keeps_the_earlier_png(earlier, monkeypatch):
    path = earlier('bg_challenge.png')

    real_print_png = FigureCanvasAgg.print_png
    calls = []

    def print_half_then_fail(canvas, target, **kwargs):
        # Matplotlib's first call only sizes the renderer (into a buffer).
        calls.append(target)
        if len(calls) == 1:
            return real_print_png(canvas, target)
        # As Agg's print_png: a path is opened for writing, a buffer used.
        if isinstance(target, str | os.PathLike):
            with open(target, 'wb') as file:
                file.write(b'\x89PNG half an image')
        else:
            target.write(b'\x89PNG half an image')
        raise OSError('disk full')

    monkeypatch.setattr(FigureCanvasAgg, 'print_png', print_half_then_fail)
    with pytest.raises(OSError, match='disk full'):
        plot_split_accuracies(METRICS, str(path))
    assert len(calls) == 2
    _assert_untouched(path)


def test_a_plot_is_written_whole(tmp_path):
    path = tmp_path / 'plot.png'
    plot_split_accuracies(METRICS, str(path))
    assert path.read_bytes().startswith(b'\x89PNG')
    assert os.listdir(tmp_path) == ['plot.png']


def test_a_table_failing_mid_row_keeps_the_earlier_csv(earlier):
    path = earlier('comparison.csv')
    results = [{'name': 'Base', 'metrics': {'original': 90.0}}, {'name': 'Broken'}]
    with pytest.raises(KeyError, match='metrics'):
        write_comparison_csv(results, [('original', 'ORIGINAL')], str(path))
    _assert_untouched(path)


def _load_test_tool():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    try:
        spec = importlib.util.spec_from_file_location(
            'atomic_test_tool', osp.join(REPO_ROOT, 'tools', 'test.py')
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(osp.join(REPO_ROOT, 'tools'))
    return module


def test_test_py_metrics_failing_to_serialise_keep_the_earlier_out(earlier):
    path = earlier('metrics.json')
    tool = _load_test_tool()
    with pytest.raises(TypeError):
        tool.dump_atomically({'accuracy/top1': 91.0, 'broken': object()}, str(path))
    _assert_untouched(path)
    tool.dump_atomically({'accuracy/top1': 91.0}, str(path))
    assert path.read_text().strip().startswith('{')


def test_test_py_predictions_are_dumped_whole_as_mmengine_reads_them(tmp_path):
    import mmengine
    import torch

    path = tmp_path / 'preds.pkl'
    dump = _load_test_tool().AtomicDumpResults(out_file_path=str(path))
    predictions = [{'pred_label': torch.tensor([3]), 'gt_label': torch.tensor([3])}]
    assert dump.compute_metrics(predictions) == {}
    loaded = mmengine.load(str(path))
    assert loaded[0]['pred_label'].tolist() == [3]
    assert os.listdir(tmp_path) == ['preds.pkl']
