"""Grouped bar chart of ORIGINAL and texture-split accuracy (S-CLAD Table 7)."""

from collections.abc import Sequence

import numpy as np

from .agg_figure import agg_figure, save_figure_atomically


def plot_shape_bias(
    names: Sequence[str],
    splits: Sequence[str],
    accuracies: Sequence[Sequence[float | None]],
    out_path: str,
    size_px: tuple = (800, 400),
    dpi: int = 100,
) -> str:
    """Saves one group of bars per split, one bar per model, as a PNG file.

    A texture-debiased model keeps its ORIGINAL accuracy on the shape-only
    and cue-conflict splits (STYLIZED, SKETCH, RANDOM-TEXTURE, OUTLINE) and
    falls to chance on the texture-only one.

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

    Returns:
        str: ``out_path``.
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
        )
        axes.bar_label(bars, fmt='%.0f', fontsize=7)
    axes.set_xticks(positions, splits, fontsize=8)
    axes.set_ylim(0, 110)
    axes.set_ylabel('top-1 accuracy (%)')
    axes.set_title('Texture / shape bias')
    axes.legend(fontsize=8, loc='upper right')
    figure.tight_layout()
    return save_figure_atomically(figure, out_path, dpi=dpi)
