"""Bar chart of per-split Background Challenge accuracy and BG-GAP."""

from clad_mm.analysis.comparison import LOWER_IS_BETTER, result_title

from .agg_figure import agg_figure, save_figure_atomically

_LOWER_IS_BETTER_NOTE = '\n(lower is better)'
# Titles longer than this break at their last hyphen (MIXED-\nRAND), so
# that the eight Background Challenge splits fit side by side.
_TICK_CHARS = 9


def draw_split_accuracies(
    metrics: dict,
    title: str = 'Background Challenge',
    prefix: str = 'bg_challenge',
    size_px: tuple = (800, 400),
    dpi: int = 100,
):
    """Draws a bar per split's top-1 accuracy, then one for BG-GAP.

    Splits where lower is better (ONLY-BG-T, ONLY-TEXTURE: the background or
    texture alone) are hatched and say so under their name; BG-GAP, in
    points, stands apart in red.

    Args:
        metrics (dict): ``{'<prefix>/<split>': accuracy}`` as returned by
            ``Runner.test()`` with :class:`BGChallengeMetric`, and
            ``'<prefix>/bg_gap'`` if present; other keys are ignored.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'bg_challenge'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.

    Raises:
        ValueError: If ``metrics`` holds no ``'<prefix>/<split>'`` accuracy.
    """
    start = f'{prefix}/'
    splits = [
        key[len(start) :]
        for key in metrics
        if key.startswith(start) and key != f'{start}bg_gap'
    ]
    if not splits:
        raise ValueError(f'no "{start}<split>" accuracies in {sorted(metrics)}')

    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    positions = list(range(len(splits)))
    bars = axes.bar(
        positions,
        [metrics[start + split] for split in splits],
        color='tab:blue',
        hatch=['//' if split in LOWER_IS_BETTER else '' for split in splits],
        edgecolor='white',
    )
    axes.bar_label(bars, fmt='%.1f', fontsize=8)
    labels = [
        _tick_label(split) + (_LOWER_IS_BETTER_NOTE if split in LOWER_IS_BETTER else '')
        for split in splits
    ]
    if f'{start}bg_gap' in metrics:
        # Half a bar's gap sets the difference apart from the accuracies.
        positions.append(len(splits) + 0.5)
        gap = axes.bar(positions[-1], metrics[f'{start}bg_gap'], color='tab:red')
        axes.bar_label(gap, fmt='%.1f', fontsize=8)
        labels.append('BG-GAP (points)' + _LOWER_IS_BETTER_NOTE)
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel('top-1 accuracy (%)')
    axes.set_title(title)
    figure.tight_layout()
    return figure


def _tick_label(split: str) -> str:
    title = result_title(split)
    if len(title) <= _TICK_CHARS or '-' not in title:
        return title
    head, _, tail = title.rpartition('-')
    return f'{head}-\n{tail}'


def plot_split_accuracies(
    metrics: dict,
    out_path: str,
    title: str = 'Background Challenge',
    prefix: str = 'bg_challenge',
    size_px: tuple = (800, 400),
    dpi: int = 100,
) -> str:
    """Saves :func:`draw_split_accuracies`'s bar chart as a PNG file.

    Args:
        metrics (dict): ``{'<prefix>/<split>': accuracy}`` as returned by
            ``Runner.test()`` with :class:`BGChallengeMetric`; BG-GAP gets
            its own bar.
        out_path (str): PNG file to write.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'bg_challenge'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        str: ``out_path``.
    """
    figure = draw_split_accuracies(metrics, title, prefix, size_px, dpi)
    return save_figure_atomically(figure, out_path, dpi=dpi)
