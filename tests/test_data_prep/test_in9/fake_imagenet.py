"""A tiny fake ImageNet train set with bounding-box XMLs, for IN-9 tests.

Each image shows an ellipse of a saturated colour on a grey-green striped,
noisy background. The generator decides from the drawn geometry which IN-9
rule must reject an image (or that it must be kept) and returns that
expectation with the drawn object mask, so that tests do not rely on the
code under test to know what it should do.
"""

import os
import os.path as osp

import cv2
import numpy as np

#: ImageNet class index of one populated synset per IN-9 class, in IN-9
#: label order (the Background Challenge's map), and two unmapped ones.
IN9_SYNSET_INDICES = (151, 7, 407, 33, 269, 300, 401, 365, 0)
UNMAPPED_SYNSET_INDICES = (171, 999)
GOOD_PER_CLASS = 4
# (height, width) of the kept images of a class, portrait and landscape.
_GOOD_SIZES = ((96, 128), (128, 96), (112, 112), (80, 120))


def wnid(index: int) -> str:
    """Made-up WordNet id of ImageNet class ``index``."""
    return f'n{90000000 + index:08d}'


def _background(height: int, width: int, rng) -> np.ndarray:
    rows = np.arange(height)[:, None]
    stripes = (np.sin(rows / rng.uniform(3, 6) + np.arange(width) / 9.0) > 0)[..., None]
    light = np.array([120, 150, 130]) + rng.uniform(-10, 10, 3)
    dark = np.array([80, 110, 90]) + rng.uniform(-10, 10, 3)
    image = np.where(stripes, light, dark) + rng.normal(0, 6, (height, width, 3))
    return image


def _ellipse_mask(height: int, width: int, box) -> np.ndarray:
    """Ellipse inscribed in ``box`` = (x0, y0, x1, y1), ends inclusive."""
    x0, y0, x1, y1 = box
    rows, cols = np.mgrid[0:height, 0:width]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rx, ry = (x1 - x0) / 2 + 0.5, (y1 - y0) / 2 + 0.5
    return ((cols - cx) / rx) ** 2 + ((rows - cy) / ry) ** 2 <= 1


def _render(height: int, width: int, boxes, rng) -> tuple[np.ndarray, np.ndarray]:
    image = _background(height, width, rng)
    mask = np.zeros((height, width), bool)
    for box in boxes:
        mask |= _ellipse_mask(height, width, box)
    colour = np.array([40, 40, 220]) + rng.uniform(-20, 20, 3)
    image = np.where(mask[..., None], colour + rng.normal(0, 6, image.shape), image)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), mask


def _xml(boxes, height: int, width: int) -> str:
    objects = ''.join(
        '<object><name>x</name><bndbox>'
        f'<xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax>'
        '</bndbox></object>'
        for x0, y0, x1, y1 in boxes
    )
    return (
        f'<annotation><size><width>{width}</width><height>{height}</height>'
        f'</size>{objects}</annotation>'
    )


def crop_region_in_source(height: int, width: int) -> tuple[float, float, float, float]:
    """The source region that Resize(256, short side) + CenterCrop(224) keeps.

    Computed in continuous coordinates (no rounding), enough to tell clear
    accept and reject cases apart.
    """
    scale = 256 / min(height, width)
    half = 112 / scale
    return width / 2 - half, height / 2 - half, width / 2 + half, height / 2 + half


def _box_shares(box, height: int, width: int) -> tuple[float, float]:
    """Share of the box kept by the crop, and share of the crop it covers."""
    x0, y0, x1, y1 = box[0], box[1], box[2] + 1, box[3] + 1
    cx0, cy0, cx1, cy1 = crop_region_in_source(height, width)
    inter = max(0, min(x1, cx1) - max(x0, cx0)) * max(0, min(y1, cy1) - max(y0, cy0))
    return inter / ((x1 - x0) * (y1 - y0)), inter / ((cx1 - cx0) * (cy1 - cy0))


def make_fake_imagenet(root: str, seed: int = 0) -> dict:
    """Writes ``root/train/<wnid>/*.JPEG``, ``root/bbox/...`` and synsets.

    Args:
        root (str): Folder to write into.
        seed (int): Seed of the textures and colours.

    Returns:
        dict: ``train_root``, ``bbox_root``, ``synsets_file`` and
        ``images``: ``{stem: {'label', 'expected', 'path', 'mask', 'box'}}``
        where ``label`` is the IN-9 label (None for unmapped synsets),
        ``expected`` is ``'kept'``, a rule name, ``'failed'`` or
        ``'unmapped'``, ``mask`` the drawn object mask (source pixels) and
        ``box`` its ``(xmin, ymin, xmax, ymax)`` (inclusive) or None.
    """
    rng = np.random.default_rng(seed)
    train_root = osp.join(root, 'train')
    bbox_root = osp.join(root, 'bbox')
    synsets_file = osp.join(root, 'LOC_synset_mapping.txt')
    os.makedirs(root, exist_ok=True)
    with open(synsets_file, 'w') as file:
        file.writelines(
            f'{wnid(index)} made-up class {index}\n' for index in range(1000)
        )
    images = {}

    def add(
        index, number, height, width, boxes, expected, label, xml=True, xml_boxes=None
    ):
        stem = f'{wnid(index)}_{number}'
        image, mask = _render(height, width, boxes, rng)
        path = osp.join(train_root, wnid(index), stem + '.JPEG')
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        annotated = boxes if xml_boxes is None else xml_boxes
        if xml:
            xml_path = osp.join(bbox_root, wnid(index), stem + '.xml')
            os.makedirs(osp.dirname(xml_path), exist_ok=True)
            with open(xml_path, 'w') as file:
                file.write(_xml(annotated, height, width))
        box = annotated[0] if len(annotated) == 1 else None
        images[stem] = dict(
            label=label, expected=expected, path=path, mask=mask, box=box
        )
        return stem

    for label, index in enumerate(IN9_SYNSET_INDICES):
        for number, (height, width) in enumerate(_GOOD_SIZES[:GOOD_PER_CLASS]):
            # Half-size object near the centre: fully inside the crop.
            box_w, box_h = (
                int(width * rng.uniform(0.35, 0.5)),
                int(height * rng.uniform(0.35, 0.5)),
            )
            x0 = width // 2 - box_w // 2 + int(rng.integers(-4, 5))
            y0 = height // 2 - box_h // 2 + int(rng.integers(-4, 5))
            box = (x0, y0, x0 + box_w, y0 + box_h)
            kept_share, coverage = _box_shares(box, height, width)
            assert kept_share == 1 and coverage < 0.5, 'generator: not a clear keep'
            add(index, number, height, width, [box], 'kept', label)

    dog, bird = IN9_SYNSET_INDICES[:2]
    good_box = (30, 30, 70, 70)
    add(dog, 100, 100, 100, [(15, 30, 45, 60), (55, 30, 85, 60)], 'box_count', 0)
    add(dog, 101, 100, 100, [good_box], 'box_count', 0, xml_boxes=[])
    add(dog, 102, 100, 100, [good_box], 'no_annotation', 0, xml=False)
    too_large = (1, 1, 98, 98)
    kept_share, coverage = _box_shares(too_large, 100, 100)
    assert kept_share >= 0.6 and coverage > 0.95, 'generator: not clearly too large'
    add(bird, 103, 100, 100, [too_large], 'box_too_large', 1)
    # A wide image: the crop keeps the middle, the object sits mostly left.
    cropped = (20, 20, 44, 44)
    kept_share, _ = _box_shares(cropped, 64, 128)
    assert kept_share < 0.4, 'generator: not clearly cropped away'
    add(bird, 104, 64, 128, [cropped], 'box_cropped', 1)
    # A 2 x 2 pixel object in a 50 x 50 box: at most 0.2 % of the box.
    tiny_stem = add(
        bird,
        105,
        100,
        100,
        [(49, 49, 50, 50)],
        'small_mask',
        1,
        xml_boxes=[(25, 25, 74, 74)],
    )
    assert images[tiny_stem]['mask'].sum() < 0.1 * 50 * 50
    broken = add(dog, 106, 100, 100, [good_box], 'failed', 0)
    with open(images[broken]['path'], 'wb') as file:
        file.write(b'not a JPEG at all')
    malformed = add(dog, 107, 100, 100, [good_box], 'failed', 0)
    with open(osp.join(bbox_root, wnid(dog), malformed + '.xml'), 'w') as file:
        file.write('<annotation><object><bndbox>')
    for index in UNMAPPED_SYNSET_INDICES:
        for number in range(2):
            add(index, number, 100, 100, [good_box], 'unmapped', None)
    return dict(
        train_root=train_root,
        bbox_root=bbox_root,
        synsets_file=synsets_file,
        images=images,
    )
