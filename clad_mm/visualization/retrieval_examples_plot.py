"""A grid of retrieval queries and the gallery images nearest to them."""

from collections.abc import Sequence

import mmcv

from .agg_figure import agg_figure

#: Frame colours of a match of the query's class and of another class.
CORRECT, WRONG = 'tab:green', 'tab:red'


def draw_retrieval_examples(
    rows: Sequence[dict],
    title: str = 'Retrieval examples',
    cell_px: int = 128,
    dpi: int = 100,
):
    """Draws each query (left) beside its nearest gallery images.

    Args:
        rows (Sequence[dict]): One per query: ``query`` (image path),
            ``query_label`` (text) and ``matches``, a list of
            ``(image path, label text, similarity, same class)`` from the
            most similar on.
        title (str): Title above the grid.
        cell_px (int): Side of each image cell in pixels.
        dpi (int): Resolution used to turn pixels into inches.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas. Matches of
        the query's class are framed green, others red.

    Raises:
        ValueError: If ``rows`` is empty.
    """
    if not rows:
        raise ValueError('no query to draw')
    columns = 1 + max(len(row['matches']) for row in rows)
    # Room for two caption lines above each row and the title.
    figure = agg_figure(
        columns * cell_px / dpi, (len(rows) * cell_px * 1.3 + 40) / dpi, dpi
    )
    grid = figure.subplots(len(rows), columns, squeeze=False)
    for axes_row, row in zip(grid, rows, strict=True):
        _draw_image(axes_row[0], row['query'], f'query\n{row["query_label"]}', 'black')
        for axes, (path, label, similarity, same) in zip(
            axes_row[1:], row['matches'], strict=False
        ):
            caption = f'{label}\ncos {similarity:.2f}'
            _draw_image(axes, path, caption, CORRECT if same else WRONG)
        for axes in axes_row[1 + len(row['matches']) :]:
            axes.axis('off')
    figure.suptitle(f'{title} (green: same class, red: other)', fontsize=9)
    figure.tight_layout()
    return figure


def _draw_image(axes, path: str, caption: str, colour: str) -> None:
    axes.imshow(mmcv.imread(path, channel_order='rgb'))
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(3)
    axes.set_title(caption, fontsize=7, color=colour)
