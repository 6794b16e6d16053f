"""Importing the plots leaves matplotlib alone; plotting leaves the backend alone.

Each check runs in a fresh interpreter, so that modules other tests imported
do not hide what an import loads.
"""

import json
import os
import os.path as osp
import subprocess
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_python(code):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, *filter(None, [env.get('PYTHONPATH')])]
    )
    completed = subprocess.run(
        [sys.executable, '-c', code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_importing_the_plots_does_not_load_matplotlib():
    loaded = run_python(
        'import sys\n'
        'import clad_mm.visualization\n'
        'import clad_mm.visualization.group_accuracy_plot\n'
        'import clad_mm.visualization.mixed_scatter_plot\n'
        'import clad_mm.visualization.result_plots_hook\n'
        'import clad_mm.visualization.retrieval_plot\n'
        'import clad_mm.visualization.saliency\n'
        'import clad_mm.visualization.shape_bias_plot\n'
        'import clad_mm.visualization.split_accuracy_plot\n'
        'import clad_mm.visualization.split_preview\n'
        "print('matplotlib' in sys.modules)\n"
    )
    assert loaded.strip() == 'False'


def test_plotting_keeps_the_sessions_backend(tmp_path):
    # A session (e.g. a notebook) that chose its own backend keeps it after
    # importing the plots and drawing every kind of chart.
    out_dir = str(tmp_path)
    report = run_python(
        f"""
import json, os
import matplotlib
matplotlib.use('svg')
import numpy as np
from clad_mm.visualization import (
    GridCell,
    plot_group_accuracies,
    plot_mixed_same_vs_rand,
    plot_retrieval_metrics,
    plot_saliency_grid,
    plot_shape_bias,
    plot_split_accuracies,
)
out = {out_dir!r}
paths = [
    plot_mixed_same_vs_rand(['a', 'b'], [90.0, 80.0], [70.0, 60.0],
                            os.path.join(out, 'scatter.png')),
    plot_shape_bias(['a'], ['ORIGINAL', 'OUTLINE'], [[90.0, None]],
                    os.path.join(out, 'shape.png')),
    plot_split_accuracies({{'bg_challenge/original': 90.0}},
                          os.path.join(out, 'splits.png')),
    plot_saliency_grid([[GridCell(np.zeros((8, 8, 3), np.uint8), 'x')]],
                       os.path.join(out, 'grid.png'), cell_size=32),
    plot_group_accuracies({{'group/accuracy/group_0': 90.0}},
                          os.path.join(out, 'groups.png')),
    plot_retrieval_metrics({{'retrieval/clean/MAP@R': 90.0}},
                           os.path.join(out, 'retrieval.png')),
]
import matplotlib.pyplot as plt
print(json.dumps(dict(backend=matplotlib.get_backend(), paths=paths,
                      open_figures=plt.get_fignums())))
"""
    )
    result = json.loads(report.strip().splitlines()[-1])
    assert result['backend'] == 'svg'
    assert result['open_figures'] == []
    for path in result['paths']:
        with open(path, 'rb') as file:
            assert file.read(8) == b'\x89PNG\r\n\x1a\n', path
