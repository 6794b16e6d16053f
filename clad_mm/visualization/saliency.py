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

# Caption band and font, as fractions of a grid cell's side.
_CAPTION_HEIGHT = 0.2
_FONT_HEIGHT = 0.068
# Width of an average character relative to the font height (DejaVu Sans).
_CHAR_WIDTH = 0.6


@dataclass
class GridCell:
    """One cell of :func:`plot_saliency_grid`.

    Args:
        image (np.ndarray): ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8 image.
        caption (str): Text above the image; lines split on ``'\\n'``.
        saliency (np.ndarray, optional): ``(H, W)`` map in [0, 1] drawn over
            a grey version of the image; None shows the image alone.
    """

    image: np.ndarray
    caption: str
    saliency: np.ndarray | None = None


def plot_saliency_grid(
    cells: Sequence[Sequence[GridCell]], out_path: str, cell_size: int = 128
) -> str:
    """Saves a grid of images and saliency overlays as a PNG.

    Every cell is a ``cell_size`` x ``cell_size`` pixel square: a caption band
    (the top fifth, up to two lines, shortened in the middle with an ellipsis
    where too long) above the image, scaled to fit the rest. The PNG is
    therefore exactly ``cell_size * columns`` pixels wide and
    ``cell_size * rows`` pixels tall. Saliency is drawn with the ``jet``
    colour map (0 blue, 1 red) at half opacity over the grey image.

    Args:
        cells (Sequence[Sequence[GridCell]]): Rows of cells, all of one length.
        out_path (str): PNG file to write.
        cell_size (int): Side of a cell in pixels (at least 32). Defaults to
            128.

    Returns:
        str: ``out_path``.

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
    # One inch per cell at cell_size dpi keeps the pixel size exact.
    figure = agg_figure(num_columns, num_rows, cell_size)
    font_points = _FONT_HEIGHT * 72
    max_chars = int(1 / (_FONT_HEIGHT * _CHAR_WIDTH))
    image_side = 1 - _CAPTION_HEIGHT - 0.02
    for row_index, row in enumerate(cells):
        for column_index, cell in enumerate(row):
            cell_left = column_index / num_columns
            cell_bottom = 1 - (row_index + 1) / num_rows
            axes = figure.add_axes(
                (
                    cell_left + (1 - image_side) / 2 / num_columns,
                    cell_bottom + 0.01 / num_rows,
                    image_side / num_columns,
                    image_side / num_rows,
                )
            )
            axes.set_axis_off()
            _draw_cell(axes, cell)
            caption = '\n'.join(
                _shorten(line, max_chars) for line in cell.caption.split('\n')[:2]
            )
            figure.text(
                cell_left + 0.5 / num_columns,
                cell_bottom + (1 - 0.01) / num_rows,
                caption,
                ha='center',
                va='top',
                fontsize=font_points,
                linespacing=1.1,
            )
    return save_figure_atomically(figure, out_path, dpi=cell_size)


def _draw_cell(axes, cell: GridCell) -> None:
    image = cell.image
    if cell.saliency is None:
        axes.imshow(image, cmap='gray' if image.ndim == 2 else None, vmin=0, vmax=255)
        return
    grey = image if image.ndim == 2 else image.astype(np.float32).mean(2)
    axes.imshow(grey, cmap='gray', vmin=0, vmax=255)
    axes.imshow(cell.saliency, cmap='jet', alpha=0.5, vmin=0, vmax=1)


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    keep = max_chars - 1
    return text[: (keep + 1) // 2] + '\u2026' + text[len(text) - keep // 2 :]
