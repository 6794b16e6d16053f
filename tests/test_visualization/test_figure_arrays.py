"""Every plot as a figure and an RGB array; what the charts say about their axes."""

import numpy as np
import pytest
from PIL import Image

from clad_mm.visualization import (
    draw_group_accuracies,
    draw_mixed_same_vs_rand,
    draw_results_shape_bias,
    draw_retrieval_metrics,
    draw_split_accuracies,
    figure_to_rgb,
    plot_group_accuracies,
    plot_retrieval_metrics,
    plot_split_accuracies,
)

SPLITS = {
    'bg_challenge/original': 95.0,
    'bg_challenge/only_bg_t': 30.0,
    'bg_challenge/mixed_same': 90.0,
    'bg_challenge/mixed_rand': 70.0,
    'bg_challenge/bg_gap': 20.0,
}
GROUPS = {
    'group/accuracy/overall': 70.0,
    'group/accuracy/group_0': 98.0,
    'group/accuracy/group_2': 34.0,  # group 1 has no test image
    'group/unweighted_group_mean': 66.0,
    'group/worst_group': 34.0,
    'group/worst_group_index': 2,
}
RETRIEVAL = {
    'retrieval/clean/MAP@R': 90.0,
    'retrieval/clean/P@1': 99.0,
    'retrieval/replaced/MAP@R': 5.0,
    'retrieval/replaced/MAP@R_std': 0.5,
    'retrieval/replaced/P@1': 15.0,
    'retrieval/replaced/P@1_std': 4.0,
    'retrieval/replaced/num_draws': 5,
}


def tick_labels(figure):
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


def test_the_array_is_the_png_the_plot_function_writes(tmp_path):
    rgb = figure_to_rgb(draw_split_accuracies(SPLITS, size_px=(640, 320)))
    assert rgb.dtype == np.uint8 and rgb.shape == (320, 640, 3)
    path = plot_split_accuracies(
        SPLITS, str(tmp_path / 'splits.png'), size_px=(640, 320)
    )
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image.convert('RGB')), rgb)


@pytest.mark.parametrize(
    'figure',
    [
        lambda: draw_group_accuracies(GROUPS, size_px=(500, 300)),
        lambda: draw_retrieval_metrics(RETRIEVAL, size_px=(500, 300)),
        lambda: draw_mixed_same_vs_rand(['a'], [90.0], [70.0], size_px=(500, 300)),
        lambda: draw_results_shape_bias(
            [dict(name='a', metrics=dict(original=90.0, outline=40.0))],
            size_px=(500, 300),
        ),
    ],
    ids=['group', 'retrieval', 'scatter', 'shape-bias'],
)
def test_every_chart_is_an_rgb_array_of_its_size(figure):
    assert figure_to_rgb(figure()).shape == (300, 500, 3)


def test_split_bars_mark_where_lower_is_better_and_end_with_bg_gap():
    labels = tick_labels(draw_split_accuracies(SPLITS))
    assert labels == [
        'ORIGINAL',
        'ONLY-BG-T\n(lower is better)',
        'MIXED-\nSAME',
        'MIXED-\nRAND',
        'BG-GAP (points)\n(lower is better)',
    ]


def test_scatter_prints_each_gap_beside_its_point_inside_the_axes():
    figure = draw_mixed_same_vs_rand(
        ['Baseline', 'CLAD', 'CLAD+'], [82.5, 90.1, 97.5], [28.6, 69.6, 94.1]
    )
    axes = figure.axes[0]
    texts = [text.get_text() for text in axes.texts]
    assert texts == ['Baseline\nBG-GAP 53.9', 'CLAD\nBG-GAP 20.5', 'CLAD+\nBG-GAP 3.4']
    assert 'lower is better' in axes.get_title()
    renderer = figure.canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    boxes = [text.get_window_extent(renderer) for text in axes.texts]
    for box in boxes:
        assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_group_bars_name_the_groups_present_and_the_summaries():
    labels = tick_labels(draw_group_accuracies(GROUPS, ['on land', 'x', 'on water']))
    assert labels == [
        'on land\n(group 0)',
        'on water\n(group 2)',
        'overall',
        'unweighted\ngroup mean',
        'worst\ngroup',
    ]
    # Without names the groups are numbered.
    assert tick_labels(draw_group_accuracies(GROUPS))[:2] == ['group 0', 'group 2']


def test_retrieval_bars_pair_clean_and_replaced_figures(tmp_path):
    figure = draw_retrieval_metrics(RETRIEVAL)
    assert tick_labels(figure) == ['MAP@R', 'P@1']
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == [
        'clean test set',
        'backgrounds replaced (mean ± std over 5 draws)',
    ]


@pytest.mark.parametrize(
    'plot, message',
    [
        (plot_group_accuracies, 'group/accuracy/group_'),
        (plot_retrieval_metrics, 'retrieval/clean/'),
    ],
)
def test_plots_without_their_figures_name_the_keys(tmp_path, plot, message):
    with pytest.raises(ValueError, match=message):
        plot({'accuracy/top1': 1.0}, str(tmp_path / 'x.png'))
    assert not (tmp_path / 'x.png').exists()
