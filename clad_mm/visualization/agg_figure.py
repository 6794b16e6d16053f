"""Matplotlib figures that never touch the global plotting backend."""

import io
import os.path as osp

import numpy as np

from clad_mm.utils.fileio import write_atomically


def agg_figure(width: float, height: float, dpi: float):
    """A new figure drawn by matplotlib's non-interactive Agg canvas.

    The figure is not registered with ``pyplot``: drawing and saving it
    neither switches the backend of a notebook or GUI session nor leaves an
    open figure behind. Matplotlib is imported here, not at module level, so
    that importing the plotting modules does not load it.

    Args:
        width (float): Width in inches.
        height (float): Height in inches.
        dpi (float): Pixels per inch.

    Returns:
        matplotlib.figure.Figure: The figure, with an Agg canvas.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def figure_to_rgb(figure) -> np.ndarray:
    """Renders a figure on its Agg canvas into an RGB array.

    The array is what ``save_figure_atomically`` would write at the figure's
    own dpi, as MMEngine's ``Visualizer.add_image`` and its backends take it.

    Args:
        figure (matplotlib.figure.Figure): A figure from :func:`agg_figure`.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 array, a copy (the canvas buffer is
        reused by the next draw).
    """
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()


def save_figure_atomically(figure, path: str, dpi: float) -> str:
    """Renders a figure into memory, then writes it with ``write_atomically``.

    A run killed while saving leaves the earlier plot (or none), never a
    truncated PNG.

    Args:
        figure (matplotlib.figure.Figure): The figure to save.
        path (str): Destination; its extension (``.png``, ``.pdf``,
            ``.svg``, ...) picks the format, PNG when it has none.
        dpi (float): Pixels per inch.

    Returns:
        str: ``path``.
    """
    buffer = io.BytesIO()
    file_format = osp.splitext(path)[1][1:].lower() or 'png'
    figure.savefig(buffer, format=file_format, dpi=dpi)
    write_atomically(path, buffer.getvalue())
    return path
