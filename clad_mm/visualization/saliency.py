"""A grid of images and saliency overlays, to compare models side by side.

The maps come from :func:`clad_mm.analysis.smooth_grad.explain_images`
(SmoothGrad, as in CLAD's Fig. 6). Matplotlib is imported, with its
non-interactive ``Agg`` backend, only when a grid is drawn, so importing
this module leaves a notebook's plotting backend alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clad_mm.utils.errors import UserError

from .agg_figure import agg_figure, save_figure_atomically

# Font height, as a fraction of a grid cell's side.
_FONT_HEIGHT = 0.068
_LINE_SPACING = 1.1
_MAX_CAPTION_LINES = 3
# Width of an average character relative to the font height (DejaVu Sans).
_CHAR_WIDTH = 0.6
# Opacity of the saliency over the grey image: low enough that the image
# (and the mask's outline) shows through the colours.
_SALIENCY_ALPHA = 0.4
# Height of the colour bar's band below the rows, in cells, and of the bar.
_COLOURBAR_BAND = 0.36
_COLOURBAR_HEIGHT = 0.07


@dataclass
class GridCell:
    """One cell of :func:`plot_saliency_grid`.

    Args:
        image (np.ndarray): ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8 image.
        caption (str): Text above the image; lines split on ``'\\n'``.
        saliency (np.ndarray, optional): ``(H, W)`` map in [0, 1] drawn over
            a grey version of the image; None shows the image alone.
        mask (np.ndarray, optional): ``(H, W)`` foreground mask in [0, 1]
            whose outline (the 0.5 level) is drawn over the cell; None draws
            none.
    """

    image: np.ndarray
    caption: str
    saliency: np.ndarray | None = None
    mask: np.ndarray | None = None


def draw_saliency_grid(
    cells: Sequence[Sequence[GridCell]],
    cell_size: int = 128,
    colorbar_label: str = 'saliency',
):
    """Draws a grid of images and saliency overlays.

    The figure is exactly ``cell_size * columns`` pixels wide and
    ``cell_size * rows`` pixels tall. Each cell is a caption (up to three
    lines, each shortened in the middle with an ellipsis where too long)
    above its image, scaled to fit. Saliency is drawn with the ``jet``
    colour map (0 blue, 1 red) at 40 % opacity over the grey image, and a
    mask's outline as a white line with a black edge. When any cell has a
    saliency map, a band of a third of a cell at the bottom holds the colour
    bar, and the rows share the height left.

    Args:
        cells (Sequence[Sequence[GridCell]]): Rows of cells, all of one length.
        cell_size (int): Side of a cell in pixels (at least 32). Defaults to
            128.
        colorbar_label (str): Text beside the colour bar; a note on the
            outline is added when a cell has a mask. Defaults to
            ``'saliency'``.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas, at
        ``cell_size`` dpi.

    Raises:
        ValueError: If the grid is empty or ragged, or ``cell_size < 32``.
    """
    if not cells or not cells[0]:
        raise ValueError('the grid has no cell')
    num_columns = len(cells[0])
    if any(len(row) != num_columns for row in cells):
        raise ValueError(
            f'every row must have {num_columns} cells, got '
            f'{[len(row) for row in cells]}'
        )
    if cell_size < 32:
        raise UserError(f'cell_size must be at least 32 pixels, got {cell_size}')
    num_rows = len(cells)
    flat = [cell for row in cells for cell in row]
    band = _COLOURBAR_BAND if any(c.saliency is not None for c in flat) else 0.0
    # Lengths below are in cells: one inch per cell at cell_size dpi keeps
    # the pixel size exact.
    figure = agg_figure(num_columns, num_rows, cell_size)
    row_height = (num_rows - band) / num_rows
    lines = min(_MAX_CAPTION_LINES, max(c.caption.count('\n') + 1 for c in flat))
    caption_height = lines * _FONT_HEIGHT * _LINE_SPACING + 0.02
    image_side = min(0.96, row_height - caption_height - 0.02)
    max_chars = int(1 / (_FONT_HEIGHT * _CHAR_WIDTH))
    for row_index, row in enumerate(cells):
        top = num_rows - row_index * row_height
        for column_index, cell in enumerate(row):
            axes = figure.add_axes(
                (
                    (column_index + (1 - image_side) / 2) / num_columns,
                    (top - caption_height - image_side) / num_rows,
                    image_side / num_columns,
                    image_side / num_rows,
                )
            )
            axes.set_axis_off()
            _draw_cell(axes, cell)
            caption = '\n'.join(
                _shorten(line, max_chars)
                for line in cell.caption.split('\n')[:_MAX_CAPTION_LINES]
            )
            figure.text(
                (column_index + 0.5) / num_columns,
                (top - 0.01) / num_rows,
                caption,
                ha='center',
                va='top',
                fontsize=_FONT_HEIGHT * 72,
                linespacing=_LINE_SPACING,
            )
    if band:
        if any(cell.mask is not None for cell in flat):
            colorbar_label += '; white line: object mask'
        _draw_colorbar(figure, num_columns, num_rows, colorbar_label, max_chars)
    return figure


def plot_saliency_grid(
    cells: Sequence[Sequence[GridCell]],
    out_path: str,
    cell_size: int = 128,
    colorbar_label: str = 'saliency',
) -> str:
    """Saves :func:`draw_saliency_grid`'s grid as a PNG.

    The PNG is exactly ``cell_size * columns`` pixels wide and
    ``cell_size * rows`` pixels tall.

    Args:
        cells (Sequence[Sequence[GridCell]]): Rows of cells, all of one length.
        out_path (str): PNG file to write.
        cell_size (int): Side of a cell in pixels (at least 32). Defaults to
            128.
        colorbar_label (str): See :func:`draw_saliency_grid`.

    Returns:
        str: ``out_path``.

    Raises:
        ValueError: If the grid is empty or ragged, or ``cell_size < 32``.
    """
    figure = draw_saliency_grid(cells, cell_size, colorbar_label)
    return save_figure_atomically(figure, out_path, dpi=cell_size)


def _draw_cell(axes, cell: GridCell) -> None:
    image = cell.image
    if cell.saliency is None:
        axes.imshow(image, cmap='gray' if image.ndim == 2 else None, vmin=0, vmax=255)
    else:
        grey = image if image.ndim == 2 else image.astype(np.float32).mean(2)
        axes.imshow(grey, cmap='gray', vmin=0, vmax=255)
        axes.imshow(cell.saliency, cmap='jet', alpha=_SALIENCY_ALPHA, vmin=0, vmax=1)
    mask = cell.mask
    # An all-background or all-foreground mask has no outline to draw.
    if mask is not None and mask.min() < 0.5 < mask.max():
        from matplotlib import patheffects

        axes.contour(
            mask,
            levels=[0.5],
            colors='white',
            linewidths=0.8,
            path_effects=[patheffects.withStroke(linewidth=1.8, foreground='black')],
        )


def _draw_colorbar(figure, num_columns, num_rows, label, max_chars) -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    width = min(3.0, 0.8 * num_columns)
    axes = figure.add_axes(
        (
            (num_columns - width) / 2 / num_columns,
            (_COLOURBAR_BAND - 0.1 - _COLOURBAR_HEIGHT) / num_rows,
            width / num_columns,
            _COLOURBAR_HEIGHT / num_rows,
        )
    )
    colorbar = figure.colorbar(
        ScalarMappable(Normalize(0, 1), 'jet'), cax=axes, orientation='horizontal'
    )
    colorbar.set_ticks([0, 0.5, 1])
    colorbar.ax.tick_params(labelsize=_FONT_HEIGHT * 72, length=2, pad=1)
    figure.text(
        0.5,
        (_COLOURBAR_BAND - 0.01) / num_rows,
        _shorten(label, int(max_chars * num_columns)),
        ha='center',
        va='top',
        fontsize=_FONT_HEIGHT * 72,
    )


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    keep = max_chars - 1
    return text[: (keep + 1) // 2] + '\u2026' + text[len(text) - keep // 2 :]
