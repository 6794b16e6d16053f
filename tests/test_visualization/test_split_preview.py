"""Tests of the split preview grid (clad_mm/visualization/split_preview.py)
and its tool (tools/analysis/split_preview.py)."""

import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.utils.errors import OutputExistsError
from clad_mm.visualization import plot_split_preview, split_preview_cells

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('00_cat', '01_dog')
SPLITS = ('original', 'outline')
STEMS = ('b_second', 'a_first', 'c_third')
SIZE = 8


def _image_value(split, class_index, stem):
    """A distinct flat grey level per image, so that cells can be traced back."""
    return 10 + 80 * SPLITS.index(split) + 30 * class_index + 7 * STEMS.index(stem)


@pytest.fixture
def test_root(tmp_path):
    root = tmp_path / 'test_set'
    for split in SPLITS:
        for class_index, class_name in enumerate(CLASSES):
            folder = root / split / 'val' / class_name
            folder.mkdir(parents=True)
            for stem in STEMS:
                value = _image_value(split, class_index, stem)
                image = np.full((SIZE, SIZE, 3), value, np.uint8)
                # One image per split as JPEG: stems, not file names, match.
                extension = '.JPEG' if split == 'original' else '.png'
                cv2.imwrite(str(folder / (stem + extension)), image)
    return str(root)


def _load_tool():
    path = osp.join(REPO_ROOT, 'tools', 'analysis', 'split_preview.py')
    spec = importlib.util.spec_from_file_location('split_preview_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cells_are_the_first_stems_of_each_class_in_every_split(test_root):
    labels, paths = split_preview_cells(test_root, SPLITS, per_class=2)
    assert labels == ['00_cat', '00_cat', '01_dog', '01_dog']
    for split, row in zip(SPLITS, paths, strict=True):
        stems = [osp.splitext(osp.basename(path))[0] for path in row]
        assert stems == ['a_first', 'b_second'] * 2
        assert all(f'{os.sep}{split}{os.sep}' in path for path in row)


def test_more_per_class_than_images_warns_and_shows_all(test_root, logged_warnings):
    labels, _ = split_preview_cells(test_root, SPLITS, per_class=5)
    assert labels == ['00_cat'] * 3 + ['01_dog'] * 3
    assert logged_warnings == [
        f'per_class=5 is more than the 3 images of '
        f'{osp.join(test_root, "original", "val", name)}: all 3 are shown'
        for name in CLASSES
    ]
    split_preview_cells(test_root, SPLITS, per_class=3)
    assert len(logged_warnings) == 2


def test_grid_places_each_image_in_its_row_and_column(test_root, tmp_path):
    cell = 12
    out = plot_split_preview(
        test_root, SPLITS, str(tmp_path / 'grid.png'), per_class=1, cell_px=cell
    )
    grid = cv2.imread(out)
    rows, columns = len(SPLITS), len(CLASSES)
    # The bottom-right block of cells, below and right of the label margins.
    cells = grid[-rows * cell :, -columns * cell :]
    for row, split in enumerate(SPLITS):
        for column in range(columns):
            block = cells[
                row * cell : (row + 1) * cell, column * cell : (column + 1) * cell
            ]
            # JPEG may shift a flat grey by a level or two.
            expected = _image_value(split, column, 'a_first')
            assert np.abs(block.astype(int) - expected).max() <= 2, (split, column)
    assert grid.shape[0] > rows * cell and grid.shape[1] > columns * cell


def test_a_split_missing_a_stem_is_named(test_root):
    os.remove(osp.join(test_root, 'outline', 'val', '01_dog', 'a_first.png'))
    with pytest.raises(
        FileNotFoundError, match=r"01_dog has no image with the stem 'a_first'"
    ):
        split_preview_cells(test_root, SPLITS)


def test_a_missing_split_and_bad_arguments_are_refused(test_root):
    with pytest.raises(FileNotFoundError, match='sketch'):
        split_preview_cells(test_root, ['original', 'sketch'])
    with pytest.raises(ValueError, match='splits is empty'):
        split_preview_cells(test_root, [])
    with pytest.raises(ValueError, match='per_class must be at least 1, got 0'):
        split_preview_cells(test_root, SPLITS, per_class=0)


def test_tool_writes_then_refuses_to_overwrite(test_root, tmp_path, capsys):
    tool = _load_tool()
    out = str(tmp_path / 'preview.png')
    arguments = [test_root, '--splits', *SPLITS, '--out', out, '--cell-size', '16']
    tool.main(arguments)
    assert cv2.imread(out).shape[1] > 2 * 16
    assert f'Wrote {out}' in capsys.readouterr().out
    written_at = os.stat(out).st_mtime_ns
    with pytest.raises(
        OutputExistsError, match=f'{out} already exists; pass --overwrite'
    ):
        tool.main(arguments)
    assert os.stat(out).st_mtime_ns == written_at
    tool.main([*arguments, '--overwrite'])
