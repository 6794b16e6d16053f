"""MIXED-SAME vs MIXED-RAND scatter plot (CLAD Fig. 5)."""

from collections.abc import Sequence

from .agg_figure import agg_figure, save_figure_atomically


def plot_mixed_same_vs_rand(
    names: Sequence[str],
    mixed_same: Sequence[float],
    mixed_rand: Sequence[float],
    out_path: str,
    size_px: tuple = (600, 600),
    dpi: int = 100,
) -> str:
    """Saves a scatter of MIXED-SAME (x) against MIXED-RAND (y) accuracy as PNG.

    A model on the identity line does not use the background at all; the
    vertical distance below it is the model's BG-GAP.

    Args:
        names (Sequence[str]): One label per model.
        mixed_same (Sequence[float]): MIXED-SAME accuracy (percent) per model.
        mixed_rand (Sequence[float]): MIXED-RAND accuracy (percent) per model.
        out_path (str): PNG file to write.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        str: ``out_path``.
    """
    if not len(names) == len(mixed_same) == len(mixed_rand):
        raise ValueError(
            f'got {len(names)} names, {len(mixed_same)} MIXED-SAME and '
            f'{len(mixed_rand)} MIXED-RAND values; expected one of each per model'
        )
    if not names:
        raise ValueError('no model to plot')
    low = max(0.0, min(*mixed_same, *mixed_rand) - 5)
    figure = agg_figure(size_px[0] / dpi, size_px[1] / dpi, dpi)
    axes = figure.subplots()
    axes.plot([low, 100], [low, 100], color='gray', linestyle='--', label='identity')
    for name, same, rand in zip(names, mixed_same, mixed_rand, strict=True):
        axes.scatter(same, rand, s=40)
        axes.annotate(name, (same, rand), textcoords='offset points', xytext=(5, 5))
    axes.set_xlim(low, 100)
    axes.set_ylim(low, 100)
    axes.set_aspect('equal')
    axes.set_xlabel('MIXED-SAME top-1 (%)')
    axes.set_ylabel('MIXED-RAND top-1 (%)')
    axes.set_title('Background reliance (below the line = BG-GAP)')
    # Points sit on or below the identity line: the upper left stays empty.
    axes.legend(loc='upper left')
    figure.tight_layout()
    return save_figure_atomically(figure, out_path, dpi=dpi)
