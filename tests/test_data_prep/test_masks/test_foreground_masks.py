"""Tests of clad_mm/data_prep/masks/foreground_masks.py and mask_folder.py."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.masks.foreground_masks import (
    center_box,
    fill_box_with_background_tiles,
    grabcut_mask,
    mask_bounding_box,
    mask_coverage,
    mask_iou,
    only_fg_image,
    read_voc_boxes,
)
from clad_mm.data_prep.masks.mask_folder import (
    compare_mask_folders,
    find_box_file,
    format_mask_quality_table,
)

OBJECT_BGR = (40, 40, 230)


def draw_object_image(size=80, seed=0):
    """A red ellipse on green stripes with noise, and the ellipse's mask."""
    rng = np.random.default_rng(seed)
    rows = np.arange(size)[:, None, None]
    stripes = (rows // 5) % 2 * 40
    background = np.array([60, 150, 70]) + stripes + rng.normal(0, 8, (size, size, 3))
    image = np.clip(background, 0, 255).astype(np.uint8)
    center, axes = (size // 2 + 3, size // 2 - 2), (size // 4, size // 6)
    cv2.ellipse(image, center, axes, 30, 0, 360, OBJECT_BGR, -1)
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, center, axes, 30, 0, 360, 1, -1)
    return image, mask


def hand_iou(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def test_grabcut_mask_finds_the_drawn_ellipse_and_is_deterministic():
    image, truth = draw_object_image()
    ys, xs = np.nonzero(truth)
    box = (xs.min() - 6, ys.min() - 6, xs.max() + 7, ys.max() + 7)
    mask = grabcut_mask(image, box)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    assert hand_iou(mask, truth) >= 0.8
    # Pixels outside the box are definite background.
    outside = np.ones_like(truth, bool)
    outside[box[1] : box[3], box[0] : box[2]] = False
    assert not mask[outside].any()
    np.testing.assert_array_equal(grabcut_mask(image, box), mask)


def test_grabcut_mask_rejects_a_box_outside_the_image():
    image, _ = draw_object_image(size=32)
    with pytest.raises(ValueError, match='box'):
        grabcut_mask(image, (10, 10, 40, 20))


def test_center_box_leaves_the_margin():
    assert center_box(100, 50) == (5, 10, 45, 90)
    assert center_box(64, 64, margin=0.25) == (16, 16, 48, 48)
    with pytest.raises(ValueError, match='margin'):
        center_box(10, 10, margin=0.5)


def test_mask_bounding_box_is_tight_with_exclusive_ends():
    mask = np.zeros((6, 8), np.uint8)
    mask[2, 3] = mask[4, 6] = 1
    assert mask_bounding_box(mask) == (3, 2, 7, 5)
    assert mask_bounding_box(np.zeros((4, 4), bool)) is None


def test_only_fg_image_blackens_the_background():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) + 1
    mask = np.array([[1, 0, 0], [0, 0, 255]], np.uint8)
    result = only_fg_image(image, mask)
    expected = np.zeros_like(image)
    expected[0, 0], expected[1, 2] = image[0, 0], image[1, 2]
    np.testing.assert_array_equal(result, expected)
    with pytest.raises(ValueError, match='shape'):
        only_fg_image(image, mask[:, :2])


def test_iou_and_coverage_by_hand():
    pred = np.array([[1, 1, 0], [0, 1, 0]])
    gt = np.array([[0, 1, 1], [0, 1, 1]])
    # Intersection 2 pixels, union 5, ground truth 4.
    assert mask_iou(pred, gt) == pytest.approx(2 / 5)
    assert mask_coverage(pred, gt) == pytest.approx(2 / 4)
    assert mask_iou(pred * 255, gt) == pytest.approx(2 / 5)
    empty = np.zeros((2, 3))
    assert mask_iou(empty, empty) == 1.0 and mask_coverage(pred, empty) == 1.0
    with pytest.raises(ValueError, match=r'\(2, 3\).*\(3, 2\)'):
        mask_iou(pred, gt.T)


def test_fill_box_with_background_tiles_repeats_the_largest_strip():
    # Columns count 0..9; of the strips left (2 x 6 pixels), right (3 x 6),
    # top and bottom (10 x 1 each) the right one is the largest.
    image = np.tile(np.arange(10, dtype=np.uint8), (6, 1))
    filled = fill_box_with_background_tiles(image, (2, 1, 7, 5))
    np.testing.assert_array_equal(filled[1:5, 2:7], np.tile([7, 8, 9, 7, 8], (4, 1)))
    np.testing.assert_array_equal(filled[:, 7:], image[:, 7:])
    np.testing.assert_array_equal(filled[[0, 5]], image[[0, 5]])
    # A wide box near the top: the bottom strip is the largest.
    rows = np.repeat(np.arange(8, dtype=np.uint8)[:, None, None], 5, axis=1)
    rows = np.repeat(rows, 3, axis=2)
    filled = fill_box_with_background_tiles(rows, (0, 1, 5, 4))
    np.testing.assert_array_equal(filled[1:4, :, 0], np.tile([[4], [5], [6]], (1, 5)))


@pytest.mark.parametrize('box', [(0, 0, 11, 3), (3, 2, 3, 4), (-1, 0, 2, 2)])
def test_fill_box_with_background_tiles_rejects_boxes_outside(box):
    with pytest.raises(ValueError, match='box'):
        fill_box_with_background_tiles(np.zeros((6, 10), np.uint8), box)


def test_fill_box_with_background_tiles_needs_background():
    with pytest.raises(ValueError, match='no background'):
        fill_box_with_background_tiles(np.zeros((6, 10), np.uint8), (0, 0, 10, 6))


def write_voc(path, boxes, size=None):
    objects = ''.join(
        f'<object><name>n0</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>'
        f'<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>'
        for x0, y0, x1, y1 in boxes
    )
    size_tag = (
        f'<size><width>{size[0]}</width><height>{size[1]}</height></size>'
        if size
        else ''
    )
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as file:
        file.write(f'<annotation>{size_tag}{objects}</annotation>')


def test_read_voc_boxes_reads_zero_based_inclusive_boxes(tmp_path):
    path = tmp_path / 'a.xml'
    # An ImageNet-style annotation: the first box touches the left and top
    # borders (xmin = ymin = 0) and the second ends on the last pixel column
    # (xmax = width - 1) and beyond the last row (ymax = 50 > height - 1).
    path.write_text(
        '<annotation><size><width>64</width><height>48</height><depth>3'
        '</depth></size><object><name>n02085620</name><bndbox><xmin>0</xmin>'
        '<ymin>0</ymin><xmax>9</xmax><ymax>19</ymax></bndbox></object>'
        '<object><name>n02085620</name><bndbox><xmin>30</xmin><ymin>40</ymin>'
        '<xmax>63</xmax><ymax>50</ymax></bndbox></object></annotation>'
    )
    # Pixels 0..9 x 0..19 and 30..63 x 40..47 (clipped), ends exclusive.
    assert read_voc_boxes(str(path)) == ([(0, 0, 10, 20), (30, 40, 64, 48)], (64, 48))
    path.write_text(
        '<annotation><object><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>10</xmax>'
        '<ymax>20</ymax></bndbox></object></annotation>'
    )
    assert read_voc_boxes(str(path)) == ([(3, 4, 11, 21)], None)
    path.write_text('<annotation><object><bndbox><xmin>1</xmin></bndbox>')
    with pytest.raises(ValueError, match='a.xml is not valid XML'):
        read_voc_boxes(str(path))
    path.write_text(
        '<annotation><object><bndbox><xmin>one</xmin><ymin>1</ymin><xmax>2'
        '</xmax><ymax>2</ymax></bndbox></object></annotation>'
    )
    with pytest.raises(ValueError, match='a.xml is not a valid Pascal-VOC'):
        read_voc_boxes(str(path))
    with pytest.raises(ValueError, match='missing.xml'):
        read_voc_boxes(str(tmp_path / 'missing.xml'))


def test_find_box_file_looks_flat_then_by_class(tmp_path):
    write_voc(str(tmp_path / 'x.xml'), [(1, 1, 2, 2)])
    write_voc(str(tmp_path / '00_dog' / 'y.xml'), [(1, 1, 2, 2)])
    assert find_box_file(str(tmp_path), 'train/00_dog/x.JPEG') == str(
        tmp_path / 'x.xml'
    )
    assert find_box_file(str(tmp_path), 'train/00_dog/y.png') == str(
        tmp_path / '00_dog' / 'y.xml'
    )
    assert find_box_file(str(tmp_path), 'train/00_dog/z.png') is None


def save_mask(root, relative, mask):
    path = osp.join(root, relative)
    os.makedirs(osp.dirname(path), exist_ok=True)
    if path.endswith('.npy'):
        np.save(path, mask.astype(np.uint8))
    else:
        cv2.imwrite(path, mask.astype(np.uint8) * 255)


def test_compare_mask_folders_per_class_and_overall_by_hand(tmp_path):
    pred_root, gt_root = str(tmp_path / 'pred'), str(tmp_path / 'gt')
    full = np.ones((2, 2))
    half = np.array([[1, 1], [0, 0]])
    corner = np.array([[1, 0], [0, 0]])
    # 00_a/x: pred half, gt full -> IoU 2/4, coverage 2/4.
    # 00_a/y: pred full, gt corner -> IoU 1/4, coverage 1.
    # 01_b/z: pred corner, gt half -> IoU 1/2, coverage 1/2.
    save_mask(pred_root, 'val/00_a/x.png', half)
    save_mask(gt_root, 'val/00_a/x.npy', full)
    save_mask(pred_root, 'val/00_a/y.png', full)
    save_mask(gt_root, 'val/00_a/y.npy', corner)
    save_mask(pred_root, 'val/01_b/z.png', corner)
    save_mask(gt_root, 'val/01_b/z.npy', half)
    save_mask(pred_root, 'val/01_b/extra.png', half)
    save_mask(gt_root, 'val/01_b/lost.npy', half)
    result = compare_mask_folders(pred_root, gt_root, show_progress=False)
    assert result['per_class']['00_a'] == pytest.approx(
        {'images': 2, 'iou': (0.5 + 0.25) / 2, 'coverage': (0.5 + 1) / 2}
    )
    assert result['per_class']['01_b'] == pytest.approx(
        {'images': 1, 'iou': 0.5, 'coverage': 0.5}
    )
    assert result['overall'] == pytest.approx(
        {'images': 3, 'iou': 1.25 / 3, 'coverage': 2 / 3}
    )
    assert result['only_in_pred'] == [osp.join('val', '01_b', 'extra.png')]
    assert result['only_in_gt'] == [osp.join('val', '01_b', 'lost.npy')]
    table = format_mask_quality_table(result)
    assert '| 00_a | 2 | 0.375 | 0.750 |' in table and 'lost.npy' in table


def test_compare_mask_folders_names_both_files_on_size_mismatch(tmp_path):
    pred_root, gt_root = str(tmp_path / 'pred'), str(tmp_path / 'gt')
    save_mask(pred_root, '00_a/x.png', np.ones((2, 2)))
    save_mask(gt_root, '00_a/x.npy', np.ones((3, 2)))
    with pytest.raises(ValueError, match=r'pred.*x\.png.*gt.*x\.npy'):
        compare_mask_folders(pred_root, gt_root, show_progress=False)


def test_compare_mask_folders_needs_pairs(tmp_path):
    save_mask(str(tmp_path / 'pred'), '00_a/x.png', np.ones((2, 2)))
    save_mask(str(tmp_path / 'gt'), '00_a/y.npy', np.ones((2, 2)))
    with pytest.raises(ValueError, match='no mask'):
        compare_mask_folders(
            str(tmp_path / 'pred'), str(tmp_path / 'gt'), show_progress=False
        )
