"""Bar chart of retrieval figures on the clean and background-replaced test set."""

import numpy as np

from clad_mm.evaluation.metrics.dml_retrieval_metric import metric_columns

from .agg_figure import agg_figure, save_figure_atomically


def draw_retrieval_metrics(
    metrics: dict,
    title: str = 'Retrieval',
    prefix: str = 'retrieval',
    size_px: tuple = (800, 400),
    dpi: int = 100,
):
    """Draws a pair of bars per figure: clean, and background-replaced ± std.

    A background-robust embedding loses little from the clean to the
    replaced bar of each figure.

    Args:
        metrics (dict): As returned by ``Runner.test()`` with
            :class:`DMLRetrievalMetric`: ``'<prefix>/clean/<figure>'`` and,
            with replaced draws, ``'<prefix>/replaced/<figure>'``,
            ``'<prefix>/replaced/<figure>_std'`` and
            ``'<prefix>/replaced/num_draws'`` (MAP@R, P@1, R-Precision,
            Recall@K, in percent); other keys are ignored.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'retrieval'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.

    Raises:
        ValueError: If ``metrics`` holds no retrieval figure under ``prefix``.
    """
    clean, replaced = f'{prefix}/clean/', f'{prefix}/replaced/'
    names = metric_columns(metrics, clean) or metric_columns(metrics, replaced)
    if not names:
        raise ValueError(
            f'no "{clean}<figure>" or "{replaced}<figure>" values in {sorted(metrics)}'
        )
    settings = []
    if f'{clean}{names[0]}' in metrics:
        settings.append(('clean test set', clean, None, 'tab:blue'))
    if f'{replaced}{names[0]}' in metrics:
        draws = metrics.get(f'{replaced}num_draws')
        label = 'backgrounds replaced' + (
            f' (mean ± std over {draws:g} draws)' if draws is not None else ''
        )
        settings.append((label, replaced, '_std', 'tab:orange'))

    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    width = 0.8 / len(settings)
    positions = np.arange(len(names))
    for index, (label, start, std_suffix, colour) in enumerate(settings):
        errors = (
            [metrics.get(f'{start}{name}{std_suffix}', 0.0) for name in names]
            if std_suffix
            else None
        )
        bars = axes.bar(
            positions + (index - (len(settings) - 1) / 2) * width,
            [metrics[f'{start}{name}'] for name in names],
            width,
            yerr=errors,
            capsize=3,
            label=label,
            color=colour,
        )
        axes.bar_label(bars, fmt='%.1f', fontsize=8)
    axes.set_xticks(positions, names, fontsize=9)
    # Room above the 100 % bars for the legend; the ticks stop at 100.
    axes.set_ylim(0, 120)
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel('percent (higher is better)')
    axes.set_title(title)
    axes.legend(fontsize=8, loc='upper center', ncols=len(settings), frameon=False)
    figure.tight_layout()
    return figure


def plot_retrieval_metrics(
    metrics: dict,
    out_path: str,
    title: str = 'Retrieval',
    prefix: str = 'retrieval',
    size_px: tuple = (800, 400),
    dpi: int = 100,
) -> str:
    """Saves :func:`draw_retrieval_metrics`'s chart as a PNG file.

    Args:
        metrics (dict): See :func:`draw_retrieval_metrics`.
        out_path (str): PNG file to write.
        title (str): Title above the chart.
        prefix (str): Metric prefix. Defaults to ``'retrieval'``.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        str: ``out_path``.
    """
    figure = draw_retrieval_metrics(metrics, title, prefix, size_px, dpi)
    return save_figure_atomically(figure, out_path, dpi=dpi)
