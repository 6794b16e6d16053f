"""Bar chart of per-split Background Challenge accuracy."""

from .agg_figure import agg_figure, save_figure_atomically


def plot_split_accuracies(
    metrics: dict,
    out_path: str,
    title: str = 'Background Challenge',
    prefix: str = 'bg_challenge',
    size_px: tuple = (800, 400),
    dpi: int = 100,
) -> str:
    """Saves a bar chart of per-split top-1 accuracy as a PNG file.

    Args:
        metrics (dict): ``{'<prefix>/<split>': accuracy}`` as returned by
            ``Runner.test()`` with :class:`BGChallengeMetric`; BG-GAP goes in
            the title.
        out_path (str): PNG file to write.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'bg_challenge'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        str: ``out_path``.
    """
    start = f'{prefix}/'
    splits = [
        key[len(start) :]
        for key in metrics
        if key.startswith(start) and key != f'{start}bg_gap'
    ]
    if not splits:
        raise ValueError(f'no "{start}<split>" accuracies in {sorted(metrics)}')
    accuracies = [metrics[start + split] for split in splits]
    if f'{start}bg_gap' in metrics:
        title = f'{title} (BG-GAP {metrics[start + "bg_gap"]:.1f})'

    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    bars = axes.bar(splits, accuracies, color='tab:blue')
    axes.bar_label(bars, fmt='%.1f', fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel('top-1 accuracy (%)')
    axes.set_title(title)
    axes.tick_params(axis='x', labelrotation=30, labelsize=8)
    figure.tight_layout()
    return save_figure_atomically(figure, out_path, dpi=dpi)
