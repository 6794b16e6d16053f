"""Grouped bar chart of ORIGINAL and texture-split accuracy (S-CLAD Table 7)."""

from collections.abc import Collection, Sequence

import numpy as np

from clad_mm.analysis.comparison import LOWER_IS_BETTER
from clad_mm.analysis.shape_bias import SPLIT_TITLES, texture_splits_present

from .agg_figure import agg_figure, save_figure_atomically


def draw_shape_bias(
    names: Sequence[str],
    splits: Sequence[str],
    accuracies: Sequence[Sequence[float | None]],
    size_px: tuple = (800, 400),
    dpi: int = 100,
    lower_is_better: Collection[str] = (),
):
    """Draws one group of bars per split, one bar per model.

    A texture-debiased model keeps its ORIGINAL accuracy on the shape-only
    and cue-conflict splits (STYLIZED, SKETCH, RANDOM-TEXTURE, OUTLINE) and
    falls to chance on the texture-only one, where lower is better.

    Args:
        names (Sequence[str]): One label per model.
        splits (Sequence[str]): Column labels, e.g. ``['ORIGINAL',
            'RANDOM-TEXTURE']``.
        accuracies (Sequence[Sequence[float | None]]): Top-1 accuracy
            (percent) per model and split; None where a model lacks a split
            (no bar).
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.
        lower_is_better (Collection[str]): Labels of ``splits`` where a
            lower accuracy is better (e.g. ``'ONLY-TEXTURE'``): their bars
            are hatched and their label says so. Defaults to none.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.

    Raises:
        ValueError: If there is no model or split, or ``accuracies`` does not
            hold one row of ``len(splits)`` values per model.
    """
    if not names or not splits:
        raise ValueError(f'nothing to plot: {len(names)} models, {len(splits)} splits')
    if len(accuracies) != len(names) or any(
        len(row) != len(splits) for row in accuracies
    ):
        raise ValueError(
            f'accuracies must hold one row of {len(splits)} values per model '
            f'({len(names)} models), got rows of {[len(row) for row in accuracies]}'
        )
    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    width = 0.8 / len(names)
    positions = np.arange(len(splits))
    for index, (name, row) in enumerate(zip(names, accuracies, strict=True)):
        shown = [i for i, value in enumerate(row) if value is not None]
        bars = axes.bar(
            positions[shown] + (index - (len(names) - 1) / 2) * width,
            [row[i] for i in shown],
            width,
            label=name,
            hatch=['//' if splits[i] in lower_is_better else '' for i in shown],
            edgecolor='white',
        )
        axes.bar_label(bars, fmt='%.0f', fontsize=8)
    labels = [
        f'{split}\n(lower is better)' if split in lower_is_better else split
        for split in splits
    ]
    axes.set_xticks(positions, labels, fontsize=9)
    # Room above the 100 % bars for the legend; the ticks stop at 100.
    axes.set_ylim(0, 120)
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel('top-1 accuracy (%)')
    axes.set_title('Texture / shape bias')
    axes.legend(fontsize=8, loc='upper center', ncols=len(names), frameon=False)
    figure.tight_layout()
    return figure


def plot_shape_bias(
    names: Sequence[str],
    splits: Sequence[str],
    accuracies: Sequence[Sequence[float | None]],
    out_path: str,
    size_px: tuple = (800, 400),
    dpi: int = 100,
    lower_is_better: Collection[str] = (),
) -> str:
    """Saves :func:`draw_shape_bias`'s chart as a PNG file.

    Args:
        names (Sequence[str]): One label per model.
        splits (Sequence[str]): Column labels, e.g. ``['ORIGINAL',
            'RANDOM-TEXTURE']``.
        accuracies (Sequence[Sequence[float | None]]): Top-1 accuracy
            (percent) per model and split; None where a model lacks a split
            (no bar).
        out_path (str): PNG file to write.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.
        lower_is_better (Collection[str]): See :func:`draw_shape_bias`.

    Returns:
        str: ``out_path``.
    """
    figure = draw_shape_bias(names, splits, accuracies, size_px, dpi, lower_is_better)
    return save_figure_atomically(figure, out_path, dpi=dpi)


def draw_results_shape_bias(results: Sequence[dict], size_px=(800, 400), dpi=100):
    """Draws :func:`draw_shape_bias` for results as the comparison reads them.

    The columns are ORIGINAL and every texture split any result holds, with
    the paper's titles; ONLY-TEXTURE is marked lower-is-better.

    Args:
        results (Sequence[dict]): ``{'name': str, 'metrics': {split:
            accuracy}}`` per model, e.g. from
            :func:`clad_mm.analysis.comparison.load_result`.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.
    """
    splits = ['original', *texture_splits_present(results)]
    return draw_shape_bias(
        [result['name'] for result in results],
        [SPLIT_TITLES[split] for split in splits],
        [[result['metrics'].get(split) for split in splits] for result in results],
        size_px,
        dpi,
        lower_is_better=[SPLIT_TITLES[s] for s in splits if s in LOWER_IS_BETTER],
    )
