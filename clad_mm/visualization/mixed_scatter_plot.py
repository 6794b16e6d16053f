"""MIXED-SAME vs MIXED-RAND scatter plot (CLAD Fig. 5)."""

import itertools
from collections.abc import Sequence

from .agg_figure import agg_figure, save_figure_atomically


def draw_mixed_same_vs_rand(
    names: Sequence[str],
    mixed_same: Sequence[float],
    mixed_rand: Sequence[float],
    size_px: tuple = (600, 600),
    dpi: int = 100,
):
    """Draws MIXED-SAME (x) against MIXED-RAND (y) accuracy, one point per model.

    A model on the identity line does not use the background at all; the
    vertical distance below it is the model's BG-GAP, drawn as a dotted
    segment up to the line and printed beside the model's name.

    Args:
        names (Sequence[str]): One label per model.
        mixed_same (Sequence[float]): MIXED-SAME accuracy (percent) per model.
        mixed_rand (Sequence[float]): MIXED-RAND accuracy (percent) per model.
        size_px (tuple): ``(width, height)`` of the image in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas.

    Raises:
        ValueError: If the three sequences differ in length or are empty.
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
    labels = []
    for name, same, rand in zip(names, mixed_same, mixed_rand, strict=True):
        (point,) = axes.plot(same, rand, 'o', markersize=7)
        axes.plot([same, same], [rand, same], ':', color=point.get_color())
        labels.append(
            ((same, rand), f'{name}\nBG-GAP {same - rand:.1f}', point.get_color())
        )
    axes.set_xlim(low, 100)
    axes.set_ylim(low, 100)
    axes.set_aspect('equal')
    axes.set_xlabel('MIXED-SAME top-1 (%)')
    axes.set_ylabel('MIXED-RAND top-1 (%), higher is better')
    axes.set_title(
        'Background reliance: BG-GAP = MIXED-SAME − MIXED-RAND,\n'
        'the distance below the line (lower is better)',
        fontsize=11,
    )
    # Points sit on or below the identity line: the upper left stays empty.
    axes.legend(loc='upper left')
    figure.tight_layout()
    _place_labels(axes, labels)
    return figure


# Label positions tried around a point, as (dx, dy) directions: below left
# first (points lie below the identity line, often near the right edge), then
# the other sides; each direction at growing distances (points).
_DIRECTIONS = ((-1, -1), (1, -1), (-1, 1), (1, 1), (0, -1), (-1, 0))
_DISTANCES = (6, 18, 32, 48, 66, 90, 120, 160)
# Half the marker's side in pixels, which a label box must keep clear of.
_MARKER_PX = 6


def _place_labels(axes, labels) -> None:
    """Puts each label beside its point, clear of the others and inside the axes.

    Greedy: every label takes the first position, nearest first, whose box
    overlaps neither an earlier label nor a point and stays inside the axes;
    a label away from its point gets a leader line. A label that fits
    nowhere stays at the first position.

    Args:
        axes (matplotlib.axes.Axes): The scatter's axes, laid out already.
        labels (list[tuple]): ``((x, y), text, colour)`` per point, ``(x, y)``
            in data units; the leader line takes the point's colour.
    """
    renderer = axes.figure.canvas.get_renderer()
    inside = axes.get_window_extent(renderer)
    points = [axes.transData.transform(xy) for xy, _, _ in labels]
    taken = []
    for xy, text, colour in labels:
        for distance, (dx, dy) in itertools.product(_DISTANCES, _DIRECTIONS):
            annotation = _annotate(axes, xy, text, colour, dx, dy, distance)
            box = _text_box(annotation, renderer)
            clear = not any(box.overlaps(other) for other in taken) and not any(
                box.x0 - _MARKER_PX < x < box.x1 + _MARKER_PX
                and box.y0 - _MARKER_PX < y < box.y1 + _MARKER_PX
                for x, y in points
            )
            if (
                clear
                and inside.contains(box.x0, box.y0)
                and inside.contains(box.x1, box.y1)
            ):
                break
            annotation.remove()
        else:
            dx, dy = _DIRECTIONS[0]
            box = _text_box(
                _annotate(axes, xy, text, colour, dx, dy, _DISTANCES[0]), renderer
            )
        taken.append(box)


def _text_box(annotation, renderer):
    """The box of an annotation's text alone, without its leader line."""
    from matplotlib.text import Text

    # Places the text as drawing would; Text's extent then leaves the
    # leader out, which Annotation's own extent includes.
    annotation.update_positions(renderer)
    return Text.get_window_extent(annotation, renderer)


def _annotate(axes, xy, text, colour, dx, dy, distance):
    return axes.annotate(
        text,
        xy,
        textcoords='offset points',
        xytext=(dx * distance, dy * distance),
        ha={-1: 'right', 0: 'center', 1: 'left'}[dx],
        va={-1: 'top', 0: 'center', 1: 'bottom'}[dy],
        fontsize=9,
        # In its point's colour: a label beside another model's gap line
        # still names its own point.
        color=colour,
        # The white box keeps the identity and gap lines from crossing the text.
        bbox=dict(boxstyle='round,pad=0.2', facecolor='white', alpha=0.8, lw=0),
        arrowprops=(
            dict(arrowstyle='-', color=colour, lw=0.8)
            if distance > _DISTANCES[0]
            else None
        ),
    )


def plot_mixed_same_vs_rand(
    names: Sequence[str],
    mixed_same: Sequence[float],
    mixed_rand: Sequence[float],
    out_path: str,
    size_px: tuple = (600, 600),
    dpi: int = 100,
) -> str:
    """Saves :func:`draw_mixed_same_vs_rand`'s scatter as a PNG file.

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
    figure = draw_mixed_same_vs_rand(names, mixed_same, mixed_rand, size_px, dpi)
    return save_figure_atomically(figure, out_path, dpi=dpi)
