"""Matplotlib figures that never touch the global plotting backend."""


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
