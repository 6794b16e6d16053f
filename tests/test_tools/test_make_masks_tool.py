"""tools/data/make_masks.py and tools/data/mask_quality.py on tiny images."""

import importlib.util
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from clad_mm.datasets.bg_challenge_train_dataset import BGChallengeTrainDataset
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('00_a', '01_b')
PER_CLASS = 3
SIZE = 64
OBJECT_BGR = np.array([40, 40, 230])


def load_tool(name):
    path = osp.join(REPO_ROOT, 'tools', 'data', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'{name}_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw_object_image(seed):
    """A red ellipse near the centre on green noisy stripes, and its mask."""
    rng = np.random.default_rng(seed)
    rows = np.arange(SIZE)[:, None, None]
    background = np.array([60, 150, 70]) + (rows // 4) % 2 * 40
    background = background + rng.normal(0, 8, (SIZE, SIZE, 3))
    image = np.clip(background, 0, 255).astype(np.uint8)
    center = tuple(int(v) for v in SIZE // 2 + rng.integers(-4, 5, size=2))
    axes = (int(rng.integers(12, 17)), int(rng.integers(8, 12)))
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(image, center, axes, angle, 0, 360, OBJECT_BGR.tolist(), -1)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(mask, center, axes, angle, 0, 360, 1, -1)
    return image, mask


def write_voc(path, boxes, size=(SIZE, SIZE)):
    objects = ''.join(
        f'<object><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>'
        f'<ymax>{y1}</ymax></bndbox></object>'
        for x0, y0, x1, y1 in boxes
    )
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as file:
        file.write(
            f'<annotation><size><width>{size[0]}</width><height>{size[1]}'
            f'</height></size>{objects}</annotation>'
        )


def voc_box_around(mask, pad=5):
    """ImageNet-style box of the mask, padded: 0-based, ends inclusive."""
    ys, xs = np.nonzero(mask)
    return (
        int(xs.min()) - pad,
        int(ys.min()) - pad,
        int(xs.max()) + pad,
        int(ys.max()) + pad,
    )


@pytest.fixture()
def image_set(tmp_path):
    """``img/train/<class>/<stem>.png``, VOC boxes and the true masks."""
    img_root, boxes = tmp_path / 'img', tmp_path / 'boxes'
    truths = {}
    for label, folder in enumerate(CLASSES):
        for index in range(PER_CLASS):
            image, mask = draw_object_image(seed=label * 10 + index)
            relative = osp.join('train', folder, f'im{label}{index}.png')
            os.makedirs(img_root / 'train' / folder, exist_ok=True)
            cv2.imwrite(str(img_root / relative), image)
            # Both layouts of --boxes: flat for class 0, per class for class 1.
            xml_folder = boxes if label == 0 else boxes / folder
            write_voc(str(xml_folder / f'im{label}{index}.xml'), [voc_box_around(mask)])
            truths[relative] = mask
    return str(img_root), str(boxes), truths


def run_make_masks(*args):
    tool = load_tool('make_masks')
    try:
        tool.main([str(arg) for arg in args])
    except SystemExit as exit_:
        return exit_.code
    return 0


def read_report(out_root):
    with open(osp.join(out_root, 'make_masks_report.json')) as file:
        return json.load(file)


def hand_iou(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def check_outputs(img_root, out_root, truths, min_iou):
    for relative, truth in truths.items():
        original = cv2.imread(osp.join(img_root, relative))
        mask = cv2.imread(osp.join(out_root, 'fg_mask', relative), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(mask)) == {0, 255}
        assert hand_iou(mask, truth) >= min_iou, relative
        only_bg_t = cv2.imread(osp.join(out_root, 'only_bg_t', relative))
        # No pixel of the (red) object survives in the tiled background.
        distance = np.linalg.norm(only_bg_t.astype(float) - OBJECT_BGR, axis=2)
        assert distance.min() > 100, relative
        assert not np.array_equal(only_bg_t[truth == 1], original[truth == 1])
        fg = cv2.imread(osp.join(out_root, 'fg_grabcut', relative))
        np.testing.assert_array_equal(fg[mask == 0], 0)
        np.testing.assert_array_equal(fg[mask == 255], original[mask == 255])


def test_grabcut_bbox_writes_the_three_views_with_two_workers(tmp_path, image_set):
    img_root, boxes, truths = image_set
    out_root = str(tmp_path / 'out')
    code = run_make_masks(
        img_root, out_root, '--method', 'grabcut-bbox', '--boxes', boxes,
        '--workers', 2,
    )  # fmt: skip
    assert code == 0
    check_outputs(img_root, out_root, truths, min_iou=0.8)
    # Outside the box, ONLY-BG-T is the original image.
    relative = next(iter(truths))
    x0, y0, x1, y1 = voc_box_around(truths[relative])
    original = cv2.imread(osp.join(img_root, relative))
    only_bg_t = cv2.imread(osp.join(out_root, 'only_bg_t', relative))
    outside = np.ones((SIZE, SIZE), bool)
    outside[y0 : y1 + 1, x0 : x1 + 1] = False
    np.testing.assert_array_equal(only_bg_t[outside], original[outside])
    report = read_report(out_root)
    assert report['counts'] == {
        'written': 6, 'skipped_existing': 0, 'rejected': 0, 'failed': 0,
        'not_images': 0,
    }  # fmt: skip
    assert report['seconds_per_image_per_core'] > 0


def test_grabcut_center_output_is_read_by_the_training_dataset(tmp_path, image_set):
    img_root, _, truths = image_set
    out_root = str(tmp_path / 'out')
    assert run_make_masks(img_root, out_root, '--method', 'grabcut-center') == 0
    check_outputs(img_root, out_root, truths, min_iou=0.8)
    dataset = BGChallengeTrainDataset(
        data_root=out_root,
        split='train',
        image_dir=img_root,
        mask_dir='fg_mask',
        background_dir='only_bg_t',
    )
    assert len(dataset) == len(truths)
    info = dataset.get_data_info(0)
    assert info['img_path'] == osp.join(img_root, 'train', '00_a', 'im00.png')
    assert info['fg_mask_path'] == osp.join(
        out_root, 'fg_mask', 'train', '00_a', 'im00.png'
    )
    assert info['bg_path'] == osp.join(
        out_root, 'only_bg_t', 'train', '00_a', 'im00.png'
    )
    assert info['gt_label'] == 0 and dataset.get_data_info(3)['gt_label'] == 1


def test_resume_skips_valid_outputs_and_redoes_a_corrupted_one(tmp_path, image_set):
    img_root, _, truths = image_set
    out_root = str(tmp_path / 'out')
    assert run_make_masks(img_root, out_root, '--method', 'grabcut-center') == 0
    corrupted = osp.join(out_root, 'fg_grabcut', 'train', '01_b', 'im11.png')
    with open(corrupted, 'wb') as file:
        file.write(b'not a png')
    resized = osp.join(out_root, 'fg_mask', 'train', '00_a', 'im02.png')
    cv2.imwrite(resized, np.zeros((8, 8), np.uint8))
    # What a run killed while writing ``corrupted`` leaves behind.
    stale = osp.join(osp.dirname(corrupted), '.im11.png.tmp424242')
    with open(stale, 'wb') as file:
        file.write(b'half an image')
    assert run_make_masks(img_root, out_root, '--method', 'grabcut-center') == 0
    assert not osp.exists(stale)
    counts = read_report(out_root)['counts']
    assert counts['written'] == 2 and counts['skipped_existing'] == 4
    assert cv2.imread(corrupted).shape == (SIZE, SIZE, 3)
    check_outputs(img_root, out_root, truths, min_iou=0.8)
    # Resuming with other options would mix two kinds of masks.
    with pytest.raises(UserError, match='would mix'):
        run_make_masks(
            img_root, out_root, '--method', 'grabcut-center', '--iterations', 2
        )


def test_report_lists_unreadable_images_bad_xml_and_rejections(
    tmp_path, image_set, capsys
):
    img_root, boxes, _ = image_set
    folder = osp.join(img_root, 'train', '00_a')
    with open(osp.join(folder, 'broken.png'), 'wb') as file:
        file.write(b'\x89PNG garbage')
    with open(osp.join(folder, 'notes.txt'), 'w') as file:
        file.write('not an image')
    with open(osp.join(boxes, 'im01.xml'), 'w') as file:
        file.write('<annotation><object><bndbox><xmin>3')
    image, mask = draw_object_image(seed=99)
    for stem in ('two_boxes', 'no_xml', 'tiny_box'):
        cv2.imwrite(osp.join(folder, f'{stem}.png'), image)
    write_voc(osp.join(boxes, 'two_boxes.xml'), [voc_box_around(mask)] * 2)
    # A box on plain background: GrabCut finds (almost) nothing in it.
    write_voc(osp.join(boxes, 'tiny_box.xml'), [(1, 1, 10, 10)])
    out_root = str(tmp_path / 'out')
    code = run_make_masks(
        img_root, out_root, '--method', 'grabcut-bbox', '--boxes', boxes
    )
    assert code == 1
    report = read_report(out_root)
    assert report['counts'] == {
        'written': 5, 'skipped_existing': 0, 'rejected': 3, 'failed': 2,
        'not_images': 1,
    }  # fmt: skip
    failed = {entry['path']: entry['error'] for entry in report['failed']}
    broken = osp.join('train', '00_a', 'broken.png')
    bad_xml = osp.join('train', '00_a', 'im01.png')
    assert set(failed) == {broken, bad_xml}
    assert 'cannot be decoded' in failed[broken]
    assert 'im01.xml' in failed[bad_xml]
    rules = {entry['path']: entry['rule'] for entry in report['rejected']}
    assert rules == {
        osp.join('train', '00_a', 'two_boxes.png'): 'box_count',
        osp.join('train', '00_a', 'no_xml.png'): 'no_annotation',
        osp.join('train', '00_a', 'tiny_box.png'): 'small_mask',
    }
    assert report['not_images'] == [osp.join('train', '00_a', 'notes.txt')]
    printed = capsys.readouterr().out
    assert '| failed | 2 |' in printed and 'broken.png' in printed
    assert '| rejected: box_count | 1 |' in printed


def test_rembg_missing_exits_2_with_install_hint(
    tmp_path, image_set, monkeypatch, capsys
):
    img_root, _, _ = image_set
    monkeypatch.setitem(sys.modules, 'rembg', None)
    code = run_make_masks(img_root, str(tmp_path / 'out'), '--method', 'rembg')
    assert code == 2
    message = capsys.readouterr().err
    assert 'pip install rembg' in message and 'U2-Net' in message
    assert 'downloaded' in message and 'first use' in message
    assert not osp.exists(tmp_path / 'out' / 'fg_mask')


def test_rembg_model_download_failure_exits_2(tmp_path, image_set, monkeypatch, capsys):
    img_root, _, _ = image_set
    fake_rembg = type(sys)('rembg')

    def fail_download(model):
        raise ConnectionError(f'cannot fetch {model}.onnx')

    fake_rembg.new_session = fail_download
    monkeypatch.setitem(sys.modules, 'rembg', fake_rembg)
    code = run_make_masks(img_root, str(tmp_path / 'out'), '--method', 'rembg')
    assert code == 2
    message = capsys.readouterr().err
    assert 'cannot fetch u2net.onnx' in message and 'pip install rembg' in message


def test_mask_quality_tool_against_hand_computed_scores(tmp_path):
    pred_root, gt_root = tmp_path / 'pred', tmp_path / 'gt'
    os.makedirs(pred_root / 'val' / '00_a')
    os.makedirs(gt_root / 'val' / '00_a')
    pred = np.zeros((4, 4), np.uint8)
    pred[:2] = 255  # 8 pixels
    gt = np.zeros((4, 4), np.uint8)
    gt[1:3] = 1  # 8 pixels, 4 shared with pred
    cv2.imwrite(str(pred_root / 'val' / '00_a' / 'x.png'), pred)
    np.save(gt_root / 'val' / '00_a' / 'x.npy', gt)
    out = tmp_path / 'scores.json'
    load_tool('mask_quality').main([str(pred_root), str(gt_root), '--out', str(out)])
    with open(out) as file:
        scores = json.load(file)
    assert scores['overall']['iou'] == pytest.approx(4 / 12)
    assert scores['overall']['coverage'] == pytest.approx(4 / 8)
    assert scores['per_class']['00_a']['images'] == 1


def test_mask_quality_tool_reports_size_mismatch(tmp_path):
    pred_root, gt_root = tmp_path / 'pred', tmp_path / 'gt'
    os.makedirs(pred_root)
    os.makedirs(gt_root)
    cv2.imwrite(str(pred_root / 'x.png'), np.zeros((4, 4), np.uint8))
    np.save(gt_root / 'x.npy', np.zeros((5, 4), np.uint8))
    with pytest.raises(UserError, match=r'x\.png.*x\.npy'):
        load_tool('mask_quality').main([str(pred_root), str(gt_root)])


def test_rembg_mask_is_thresholded_and_tiled_by_its_box(
    tmp_path, image_set, monkeypatch
):
    img_root, _, truths = image_set
    fake_rembg = type(sys)('rembg')
    fake_rembg.new_session = lambda model: f'session of {model}'

    def remove(rgb, session, only_mask):
        # Soft alpha of a salient-object model: red in RGB order is the object.
        assert session == 'session of u2net' and only_mask
        is_red = (rgb[..., 0] > 180) & (rgb[..., 2] < 100)
        return np.where(is_red, 200, 60).astype(np.uint8)

    fake_rembg.remove = remove
    monkeypatch.setitem(sys.modules, 'rembg', fake_rembg)
    out_root = str(tmp_path / 'out')
    assert run_make_masks(img_root, out_root, '--method', 'rembg', '--workers', 1) == 0
    check_outputs(img_root, out_root, truths, min_iou=0.99)
