"""Bar chart of group-robustness accuracy: every group, then the summaries."""

import textwrap
from collections.abc import Sequence

from .agg_figure import agg_figure, save_figure_atomically

# The summary figures of GroupAccuracyMetric, in the order of its table.
_SUMMARIES = (
    ('accuracy/overall', 'overall'),
    ('unweighted_group_mean', 'unweighted group mean'),
    ('train_weighted_mean', 'train-weighted mean'),
    ('worst_group', 'worst group'),
)
# Characters per line of a bar's label, so that neighbours do not touch.
_LABEL_WIDTH = 10


def draw_group_accuracies(
    metrics: dict,
    group_names: Sequence[str] | None = None,
    title: str = 'Group robustness',
    prefix: str = 'group',
    size_px: tuple = (800, 400),
    dpi: int = 100,
):
    """Draws a bar per group's accuracy, the worst in red, then the summaries.

    Args:
        metrics (dict): As returned by ``Runner.test()`` with
            :class:`GroupAccuracyMetric`: ``'<prefix>/accuracy/group_<i>'``
            for every group with test images, and any of
            ``'<prefix>/accuracy/overall'``,
            ``'<prefix>/unweighted_group_mean'``,
            ``'<prefix>/train_weighted_mean'``, ``'<prefix>/worst_group'``
            and ``'<prefix>/worst_group_index'``; other keys are ignored.
        group_names (Sequence[str], optional): Name of every group, by
            index; ``'group <i>'`` where None or too short.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'group'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.

    Raises:
        ValueError: If ``metrics`` holds no group's accuracy.
    """
    start = f'{prefix}/accuracy/group_'
    groups = sorted(int(key[len(start) :]) for key in metrics if key.startswith(start))
    if not groups:
        raise ValueError(f'no "{start}<i>" accuracies in {sorted(metrics)}')
    names = list(group_names or [])
    worst = metrics.get(f'{prefix}/worst_group_index')

    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    positions = list(range(len(groups)))
    bars = axes.bar(
        positions,
        [metrics[f'{start}{group}'] for group in groups],
        color=['tab:red' if group == worst else 'tab:blue' for group in groups],
    )
    axes.bar_label(bars, fmt='%.1f', fontsize=8)
    labels = [
        textwrap.fill(names[group], _LABEL_WIDTH) + f'\n(group {group})'
        if group < len(names)
        else f'group {group}'
        for group in groups
    ]
    summaries = [
        (key, label) for key, label in _SUMMARIES if f'{prefix}/{key}' in metrics
    ]
    # Half a bar's gap sets the summaries apart from the groups.
    summary_positions = [len(groups) + 0.5 + index for index in range(len(summaries))]
    summary_bars = axes.bar(
        summary_positions,
        [metrics[f'{prefix}/{key}'] for key, _ in summaries],
        color=[
            'tab:red' if key == 'worst_group' else 'tab:gray' for key, _ in summaries
        ],
    )
    axes.bar_label(summary_bars, fmt='%.1f', fontsize=8)
    labels += [textwrap.fill(label, _LABEL_WIDTH) for _, label in summaries]
    axes.set_xticks(positions + summary_positions, labels, fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel('top-1 accuracy (%)')
    axes.set_title(title)
    figure.tight_layout()
    return figure


def plot_group_accuracies(
    metrics: dict,
    out_path: str,
    group_names: Sequence[str] | None = None,
    title: str = 'Group robustness',
    prefix: str = 'group',
    size_px: tuple = (800, 400),
    dpi: int = 100,
) -> str:
    """Saves :func:`draw_group_accuracies`'s chart as a PNG file.

    Args:
        metrics (dict): See :func:`draw_group_accuracies`.
        out_path (str): PNG file to write.
        group_names (Sequence[str], optional): Name of every group, by index.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'group'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        str: ``out_path``.
    """
    figure = draw_group_accuracies(metrics, group_names, title, prefix, size_px, dpi)
    return save_figure_atomically(figure, out_path, dpi=dpi)
