"""The saliency comparison grid."""

import numpy as np
import pytest
from PIL import Image

from clad_mm.visualization.agg_figure import figure_to_rgb
from clad_mm.visualization.saliency import (
    GridCell,
    draw_saliency_grid,
    plot_saliency_grid,
)


def grid(num_rows, num_columns, image_size=(20, 30)):
    rng = np.random.default_rng(0)
    rows = []
    for row in range(num_rows):
        image = rng.integers(0, 256, (*image_size, 3), dtype=np.uint8)
        cells = [GridCell(image, f'image_{row}.png\ntrue: dog')]
        cells += [
            GridCell(
                image,
                f'model {column}\npred: a rather long class name here',
                rng.random(image_size),
            )
            for column in range(1, num_columns)
        ]
        rows.append(cells)
    return rows


@pytest.mark.parametrize('cell_size, num_rows, num_columns', [(64, 2, 3), (97, 3, 2)])
def test_grid_is_png_of_exact_size(tmp_path, cell_size, num_rows, num_columns):
    out_path = tmp_path / 'grid.png'
    plot_saliency_grid(grid(num_rows, num_columns), str(out_path), cell_size)

    assert out_path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with Image.open(out_path) as image:
        assert image.format == 'PNG'
        assert image.size == (cell_size * num_columns, cell_size * num_rows)


def test_grid_draws_saliency_over_the_image(tmp_path):
    black = np.zeros((16, 16, 3), dtype=np.uint8)
    cells = [
        [
            GridCell(black, 'input'),
            GridCell(black, 'hot', np.ones((16, 16))),
            GridCell(black, 'cold', np.zeros((16, 16))),
        ]
    ]
    out_path = tmp_path / 'grid.png'
    cell_size = 100
    plot_saliency_grid(cells, str(out_path), cell_size)

    with Image.open(out_path) as image:
        pixels = np.asarray(image.convert('RGB')).astype(int)
    # Centre of each cell's image area (the caption takes the top fifth).
    y = int(cell_size * 0.6)
    plain, hot, cold = (pixels[y, x * cell_size + cell_size // 2] for x in range(3))
    assert plain.max() < 10  # the black image itself
    assert hot[0] > 40 and hot[1] < 10 and hot[2] < 10  # jet(1) is dark red
    assert cold[2] > 40 and cold[0] < 10  # jet(0) is dark blue


def test_grid_rejects_ragged_rows_and_tiny_cells(tmp_path):
    rows = grid(2, 3)
    rows[1] = rows[1][:2]
    with pytest.raises(ValueError, match=r'\[3, 2\]'):
        plot_saliency_grid(rows, str(tmp_path / 'x.png'))
    with pytest.raises(ValueError, match='cell_size'):
        plot_saliency_grid(grid(1, 1), str(tmp_path / 'x.png'), cell_size=16)


def test_mask_outline_is_drawn_in_white_with_a_black_edge():
    black = np.zeros((16, 16, 3), dtype=np.uint8)
    mask = np.zeros((16, 16))
    mask[4:12, 4:12] = 1
    outlined, plain = (
        figure_to_rgb(draw_saliency_grid([[GridCell(black, 'x', mask=m)]], 100))
        for m in (mask, None)
    )
    # Inside the image area (below the one-line caption, within the margins).
    inside = (slice(15, 90), slice(10, 90))
    assert plain[inside].max() < 10
    assert outlined[inside].max() > 200


def test_colour_bar_only_below_saliency():
    black = np.zeros((8, 8, 3), dtype=np.uint8)
    assert len(draw_saliency_grid([[GridCell(black, 'x')]], 64).axes) == 1
    with_map = draw_saliency_grid([[GridCell(black, 'x', np.ones((8, 8)))]], 64)
    # The cell's axes and the colour bar's.
    assert len(with_map.axes) == 2
    assert figure_to_rgb(with_map).shape == (64, 64, 3)
