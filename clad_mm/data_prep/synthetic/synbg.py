"""SynBG: a small synthetic data set with the Background Challenge's layout.

SynBG stands in for ImageNet-9 (IN-9, the data of the Background Challenge,
Xiao et al., ICLR 2021) where the real data cannot be downloaded: demos,
tests and CPU experiments. Every image shows one of nine
shapes (the foreground, which decides the label) on one of nine background
families (a colour and a pattern). As in ImageNet, where most dogs stand on
grass, the background is correlated with the label: an image of class ``y``
shows background family ``y`` with probability ``background_correlation``
(0.8 by default) and one of the other eight families, chosen uniformly,
otherwise. The test ``original`` split follows the same correlation as the
training split, like the real ImageNet-9 test images. The background cue
(large areas of colour) is easier to learn than the shape, so a plain
classifier leans on it, which the test splits measure (ONLY-BG-T above
chance, MIXED-SAME above MIXED-RAND). The default correlation was measured
with a ResNet-18 trained from scratch for 14 CPU epochs: at 0.8 it learns the
shapes (ONLY-FG about 70 %) and still shows a clear BG-GAP (about 30 points);
at 0.85 and above ONLY-FG falls to about 50 %.

Files are written exactly as in CLAD's release and the Background Challenge::

    OUT_DIR/
      original/train/<class>/<stem>.JPEG
      fg_mask/train/<class>/<stem>.png        binary mask, 0 or 255
      fg_grabcut/train/<class>/<stem>.JPEG    object on black
      only_bg_t/train/<class>/<stem>.JPEG     object box filled with tiles
      test_set/<split>/val/<class>/<stem>.JPEG
      test_set/fg_mask/val/<class>/<stem>.npy  H x W uint8 in {0, 1}
      synbg_manifest.json   per image: label, background label, box, donors
      synbg_meta.json       parameters and counts; written last
      synbg_files.jsonl     every file written, recorded before it is written

Every derived view is computed from the rendered original image, its mask
and its bounding box in the same way as for the real data, so the views of
one image agree with each other. Generation is deterministic: each image has
its own random generator seeded with ``(seed, split, index)``.
"""

import colorsys
import math
import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.datasets.folder_layout import BG_CHALLENGE_SPLITS
from clad_mm.datasets.transforms.foreground_paste import hard_paste
from clad_mm.utils.errors import UserError

from ..masks.foreground_masks import fill_box_with_background_tiles, mask_bounding_box
from .generated_set import (
    GeneratedSetLayout,
    ImageWriter,
    generate_set,
    read_generated_set_meta,
)

CLASSES = (
    '00_circle',
    '01_square',
    '02_triangle',
    '03_star',
    '04_cross',
    '05_ring',
    '06_crescent',
    '07_heart',
    '08_diamond',
)
BACKGROUND_FAMILIES = (
    'horizontal_stripes',
    'vertical_stripes',
    'checkerboard',
    'dots',
    'blotches',
    'diagonal_stripes',
    'grid',
    'rings',
    'waves',
)
TRAIN_FOLDERS = ('original', 'fg_mask', 'fg_grabcut', 'only_bg_t')
META_FILE = 'synbg_meta.json'
MANIFEST_FILE = 'synbg_manifest.json'
JOURNAL_FILE = 'synbg_files.jsonl'
DEFAULT_BACKGROUND_CORRELATION = 0.8


SYNBG_LAYOUT = GeneratedSetLayout(
    name='SynBG',
    data_format='synbg',
    version=1,
    meta_file=META_FILE,
    manifest_file=MANIFEST_FILE,
    journal_file=JOURNAL_FILE,
    train_folders=TRAIN_FOLDERS,
    test_splits=BG_CHALLENGE_SPLITS,
)

# Distinguishes the random streams of the two splits and of the donor draw.
_STREAM_TRAIN, _STREAM_TEST, _STREAM_DONORS = 0, 1, 2
# Smallest background colour distance (RGB, 0-255) a foreground colour must
# keep, so that the shape is always visible.
_MIN_FOREGROUND_CONTRAST = 110.0
# Shape radius as a fraction of the image side, and the largest rotation in
# radians. Measured with a ResNet-18 trained from scratch at 64 px: with full
# rotations or smaller shapes the foreground is not learned within the few
# CPU epochs a demo can afford, and the set would measure nothing but bias.
_RADIUS_RANGE = (0.22, 0.32)
_MAX_ROTATION = 0.5


@dataclass
class SynBGSample:
    """One rendered image with the annotations every view is derived from.

    Attributes:
        image (np.ndarray): H x W x 3 uint8 BGR image (the ORIGINAL view).
        mask (np.ndarray): H x W bool foreground mask.
        box (tuple[int, int, int, int]): Tight box of the mask as
            ``(x0, y0, x1, y1)`` with exclusive ``x1`` and ``y1``.
        label (int): Class index of the foreground shape.
        background_label (int): Index of the background family.
    """

    image: np.ndarray
    mask: np.ndarray
    box: tuple
    label: int
    background_label: int


def _regular_polygon(corners: int, phase: float = 0.0) -> np.ndarray:
    angles = phase + 2 * np.pi * np.arange(corners) / corners
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(points: int = 5, inner_radius: float = 0.45) -> np.ndarray:
    outer = _regular_polygon(points)
    inner = inner_radius * _regular_polygon(points, phase=np.pi / points)
    return np.stack([outer, inner], axis=1).reshape(-1, 2)


def _cross(half_width: float = 0.32) -> np.ndarray:
    w = half_width
    return np.array(
        [
            [w, 1],
            [w, w],
            [1, w],
            [1, -w],
            [w, -w],
            [w, -1],
            [-w, -1],
            [-w, -w],
            [-1, -w],
            [-1, w],
            [-w, w],
            [-w, 1],
        ]
    )


def _heart() -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    # Centre the curve's box on the origin; image rows grow downwards.
    x, y = x / 17, -(y + 2.5) / 15
    return np.stack([x, y], axis=1)


def _half_disc() -> np.ndarray:
    t = np.linspace(0, np.pi, 33)
    # Centre the half disc's box (2 wide, 1 high) on the origin.
    return np.stack([np.cos(t), 0.5 - np.sin(t)], axis=1)


def _arrow(shaft_half_width: float = 0.3, head_half_width: float = 0.8) -> np.ndarray:
    neck = 0.1
    return np.array(
        [
            [-1, -shaft_half_width],
            [neck, -shaft_half_width],
            [neck, -head_half_width],
            [1, 0],
            [neck, head_half_width],
            [neck, shaft_half_width],
            [-1, shaft_half_width],
        ]
    )


_CIRCLE = _regular_polygon(64)
#: Every shape the generators draw, by name: a list of (unit polygon, value)
#: filled in order with 1 (the shape) or 0 (a hole), centred on 0 with a
#: radius of about 1. A class folder ``NN_<name>`` shows shape ``<name>``.
SHAPES = {
    'circle': [(_CIRCLE, 1)],
    'square': [(_regular_polygon(4, np.pi / 4) * math.sqrt(2) * 0.8, 1)],
    'triangle': [(_regular_polygon(3, -np.pi / 2) * 1.1, 1)],
    'star': [(_star() * 1.1, 1)],
    'cross': [(_cross(), 1)],
    'ring': [(_CIRCLE, 1), (_CIRCLE * 0.55, 0)],
    'crescent': [(_CIRCLE, 1), (_CIRCLE * 0.85 + [0.45, 0], 0)],
    'heart': [(_heart(), 1)],
    'diamond': [(_regular_polygon(4) * [1.1, 0.55], 1)],
    'half_disc': [(_half_disc(), 1)],
    'arrow': [(_arrow(), 1)],
}


def shape_name(class_name: str) -> str:
    """The shape a class folder shows: ``'05_ring'`` shows ``'ring'``.

    Args:
        class_name (str): Class folder name ``NN_<shape>``.

    Returns:
        str: A key of :data:`SHAPES`.
    """
    return class_name.split('_', 1)[1]


def render_shape_mask(
    shape: str, image_size: int, center, radius: float, angle: float
) -> np.ndarray:
    """Draws a shape as a binary mask.

    Args:
        shape (str): Shape name, a key of :data:`SHAPES`.
        image_size (int): Side of the square mask in pixels.
        center (Sequence[float]): ``(x, y)`` of the shape's centre in pixels.
        radius (float): Radius of the shape in pixels.
        angle (float): Rotation in radians.

    Returns:
        np.ndarray: ``image_size`` x ``image_size`` bool mask.
    """
    # Sub-pixel vertex precision keeps small shapes from snapping to a grid.
    fraction_bits = 4
    rotation = np.array(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    )
    mask = np.zeros((image_size, image_size), np.uint8)
    for polygon, value in SHAPES[shape]:
        points = (polygon @ rotation.T) * radius + np.asarray(center)
        points = np.round(points * 2**fraction_bits).astype(np.int32)
        cv2.fillPoly(mask, [points], value, cv2.LINE_8, fraction_bits)
    return mask.astype(bool)


def _hsv_to_bgr(hue: float, saturation: float, value: float) -> np.ndarray:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return np.array([blue, green, red]) * 255


def _background_pattern(
    family: str, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Pattern of a background family as H x W values in [0, 1]."""
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(np.float64)
    period = image_size * rng.uniform(0.12, 0.2)
    phase = rng.uniform(0, 2 * np.pi)
    # Small orientation jitter keeps the stripe families apart from each other.
    tilt = rng.uniform(-0.15, 0.15)
    if family in ('horizontal_stripes', 'vertical_stripes', 'diagonal_stripes'):
        orientation = {
            'horizontal_stripes': 0.0,
            'vertical_stripes': np.pi / 2,
            'diagonal_stripes': np.pi / 4,
        }[family] + tilt
        across = rows * math.cos(orientation) + cols * math.sin(orientation)
        return (np.sin(2 * np.pi * across / period + phase) > 0).astype(float)
    u = rows * math.cos(tilt) + cols * math.sin(tilt)
    v = cols * math.cos(tilt) - rows * math.sin(tilt)
    offset = rng.uniform(0, period, size=2)
    if family == 'checkerboard':
        cells = np.floor((u + offset[0]) / period) + np.floor((v + offset[1]) / period)
        return cells % 2
    if family == 'dots':
        du = (u + offset[0]) % period - period / 2
        dv = (v + offset[1]) % period - period / 2
        return (np.hypot(du, dv) < 0.3 * period).astype(float)
    if family == 'grid':
        line = 0.2 * period
        on_line = ((u + offset[0]) % period < line) | ((v + offset[1]) % period < line)
        return on_line.astype(float)
    if family == 'rings':
        center = rng.uniform(0, image_size, size=2)
        distance = np.hypot(rows - center[1], cols - center[0])
        return (np.sin(2 * np.pi * distance / period + phase) > 0).astype(float)
    if family == 'waves':
        wavelength = image_size * rng.uniform(0.3, 0.5)
        height = rows + 0.25 * period * np.sin(2 * np.pi * cols / wavelength + phase)
        return 0.5 + 0.5 * np.sin(2 * np.pi * height / period)
    if family == 'blotches':
        coarse = rng.uniform(0, 1, size=(5, 5))
        smooth = cv2.resize(
            coarse, (image_size, image_size), interpolation=cv2.INTER_CUBIC
        )
        return np.clip(smooth, 0, 1)
    raise ValueError(f'unknown background family {family!r}')


def render_background(
    background_label: int, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Renders a background of one family: its own hue and pattern.

    Args:
        background_label (int): Index into :data:`BACKGROUND_FAMILIES`; the
            family's hue is ``background_label / 9`` of the colour circle.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): Source of the jitter.

    Returns:
        np.ndarray: H x W x 3 float64 BGR image in [0, 255].
    """
    hue = background_label / len(BACKGROUND_FAMILIES) + rng.uniform(-0.02, 0.02)
    saturation = rng.uniform(0.45, 0.75)
    value = rng.uniform(0.6, 0.9)
    light = _hsv_to_bgr(hue, saturation, value)
    dark = _hsv_to_bgr(hue, saturation, value * 0.8)
    family = BACKGROUND_FAMILIES[background_label]
    pattern = _background_pattern(family, image_size, rng)[..., None]
    return light * (1 - pattern) + dark * pattern


def _foreground_colour(background: np.ndarray, rng: np.random.Generator):
    reference = background.reshape(-1, 3).mean(axis=0)
    while True:
        colour = _hsv_to_bgr(rng.uniform(), rng.uniform(0.5, 1), rng.uniform(0.6, 1))
        if np.linalg.norm(colour - reference) >= _MIN_FOREGROUND_CONTRAST:
            return colour


def render_sample(
    label: int, background_label: int, image_size: int, rng: np.random.Generator
) -> SynBGSample:
    """Renders one ORIGINAL image: a shape of class ``label`` on a background.

    The shape gets a random colour (kept distinct from the background), size,
    position and rotation, and a brightness gradient; pixel noise covers the
    whole image so that no region is perfectly flat.

    Args:
        label (int): Class index of the shape.
        background_label (int): Index of the background family.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): The image's own random generator.

    Returns:
        SynBGSample: The image with its mask, box and labels.
    """
    background = render_background(background_label, image_size, rng)
    mask, box, center, radius = draw_shape(shape_name(CLASSES[label]), image_size, rng)
    rows, cols = np.mgrid[0:image_size, 0:image_size]
    direction = rng.uniform(0, 2 * np.pi)
    along = (cols - center[0]) * math.cos(direction)
    along = along + (rows - center[1]) * math.sin(direction)
    shading = 1 + 0.2 * along / radius
    foreground = _foreground_colour(background, rng) * shading[..., None]
    image = np.where(mask[..., None], foreground, background)
    image = image + rng.normal(0, 5, size=image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return SynBGSample(image, mask, box, label, background_label)


def draw_shape(
    shape: str,
    image_size: int,
    rng: np.random.Generator,
    max_rotation: float = _MAX_ROTATION,
) -> tuple:
    """Draws a random pose of a shape and renders it.

    The radius is a fraction ``(0.22, 0.32)`` of the image side, the
    rotation at most ``max_rotation`` radians either way, and the centre
    keeps the whole shape inside the image.

    Args:
        shape (str): Shape name, a key of :data:`SHAPES`.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): The image's own random generator.
        max_rotation (float): Largest rotation in radians. Defaults to
            SynBG's 0.5.

    Returns:
        tuple: ``(mask, box, center, radius)``: the H x W bool mask, its
        tight box ``(x0, y0, x1, y1)``, the ``(x, y)`` centre and the radius
        in pixels.

    Raises:
        ValueError: If the shape covers no pixel (``image_size`` too small).
    """
    radius = image_size * rng.uniform(*_RADIUS_RANGE)
    # Unit shapes reach out to 1.12, so the whole shape stays inside the image.
    margin = radius * 1.15 + 1
    center = rng.uniform(margin, image_size - margin, size=2)
    angle = rng.uniform(-max_rotation, max_rotation)
    mask = render_shape_mask(shape, image_size, center, radius, angle)
    box = mask_bounding_box(mask)
    if box is None:
        raise UserError(
            f'the shape {shape!r} covers no pixel of the '
            f'{image_size} px image: image_size is too small'
        )
    return mask, box, center, radius


def draw_other(rng: np.random.Generator, start: int, stop: int, excluded: int) -> int:
    """Uniform draw from ``range(start, stop)`` without ``excluded``.

    Args:
        rng (np.random.Generator): Source of the draw (one integer).
        start (int): First value of the range.
        stop (int): End of the range (exclusive).
        excluded (int): Value of the range never drawn.

    Returns:
        int: The drawn value.
    """
    drawn = start + int(rng.integers(stop - start - 1))
    return drawn + 1 if drawn >= excluded else drawn


def draw_correlated_label(
    label: int, correlation: float, rng: np.random.Generator
) -> int:
    """Draws a nuisance label (background or texture family) for a class.

    Args:
        label (int): Class index of the image.
        correlation (float): Probability of returning ``label`` itself.
        rng (np.random.Generator): Source of the draw.

    Returns:
        int: ``label`` with probability ``correlation``, else one of the
        other classes, chosen uniformly.
    """
    if rng.uniform() < correlation:
        return label
    return draw_other(rng, 0, len(CLASSES), label)


def _render_split(
    stream: int, per_class: int, image_size: int, seed: int, correlation: float
):
    """Yields ``(stem, sample)`` for every image of one split, class by class."""
    split_name = 'train' if stream == _STREAM_TRAIN else 'test'
    for index in range(per_class * len(CLASSES)):
        rng = np.random.default_rng([seed, stream, index])
        label = index // per_class
        background_label = draw_correlated_label(label, correlation, rng)
        sample = render_sample(label, background_label, image_size, rng)
        yield f'synbg_{split_name}_{index:06d}', sample


def _blacken(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    return np.where(region[..., None], 0, image).astype(np.uint8)


def _box_region(sample: SynBGSample) -> np.ndarray:
    x0, y0, x1, y1 = sample.box
    region = np.zeros_like(sample.mask)
    region[y0:y1, x0:x1] = True
    return region


def _draw_donors(samples: list, per_class: int, seed: int) -> list:
    """Chooses the background donor of every test image for each mixed split.

    A donor is never the image itself: MIXED-SAME takes another image of the
    same class, MIXED-RAND any other image, MIXED-NEXT an image of class
    ``(y + 1) mod 9``.
    """
    rng = np.random.default_rng([seed, _STREAM_DONORS])
    donors = []
    for index, sample in enumerate(samples):
        class_start = sample.label * per_class
        next_start = (sample.label + 1) % len(CLASSES) * per_class
        donors.append(
            {
                'mixed_same': draw_other(
                    rng, class_start, class_start + per_class, index
                ),
                'mixed_rand': draw_other(rng, 0, len(samples), index),
                'mixed_next': next_start + int(rng.integers(per_class)),
            }
        )
    return donors


def generate_synbg(
    out_dir: str,
    image_size: int = 64,
    train_per_class: int = 250,
    test_per_class: int = 75,
    seed: int = 0,
    overwrite: bool = False,
    show_progress: bool = True,
    background_correlation: float = DEFAULT_BACKGROUND_CORRELATION,
) -> dict:
    """Generates a SynBG set, or finds an identical one already in place.

    If ``out_dir`` already holds a complete set made with the same parameters
    nothing is written, so callers can "generate if absent".

    Args:
        out_dir (str): Root folder to write; created if missing.
        image_size (int): Side of the square images in pixels.
        train_per_class (int): Training images per class.
        test_per_class (int): Test images per class (in every test split).
        seed (int): Seed of every random choice; the same seed gives
            byte-identical files.
        overwrite (bool): Remove the files an earlier run recorded in
            ``synbg_files.jsonl`` and generate anew instead of refusing a
            non-empty ``out_dir``. Other files are left alone; one inside
            the set's folders stops the run (naming it).
        show_progress (bool): Print a progress bar with elapsed time and ETA.
        background_correlation (float): Probability that an image shows its
            own class's background family, in training and test ORIGINAL.

    Returns:
        dict: ``synbg_meta.json``'s content plus ``out_dir`` and ``generated``
        (False when an existing set was kept).

    Raises:
        ValueError: If an argument is out of range.
        OutputExistsError: If ``out_dir`` is a file; if it is not empty,
            holds no complete set made with these parameters and
            ``overwrite`` is False; or, with ``overwrite``, if the set's
            folders hold files no earlier run recorded.
    """
    if image_size < 16:
        raise UserError(f'image_size must be at least 16 pixels, got {image_size}')
    for name, count in (
        ('train_per_class', train_per_class),
        ('test_per_class', test_per_class),
    ):
        if count < 2:
            raise UserError(f'{name} must be at least 2, got {count}')
    if not 0 <= background_correlation <= 1:
        raise UserError(
            f'background_correlation must be in [0, 1], got {background_correlation}'
        )
    parameters = {
        'image_size': image_size,
        'train_per_class': train_per_class,
        'test_per_class': test_per_class,
        'seed': seed,
        'background_correlation': background_correlation,
    }
    num_train = train_per_class * len(CLASSES)
    num_test = test_per_class * len(CLASSES)

    def write_images(progress: ProgressBar | None, write: ImageWriter) -> dict:
        return {
            'train': _write_train_split(out_dir, parameters, progress, write),
            'test': _write_test_splits(out_dir, parameters, progress, write),
        }

    return generate_set(
        out_dir,
        SYNBG_LAYOUT,
        parameters,
        overwrite,
        show_progress,
        num_train + 2 * num_test,
        write_images,
        {
            'classes': list(CLASSES),
            'background_families': list(BACKGROUND_FAMILIES),
            'num_train': num_train,
            'num_test': num_test,
        },
    )


def read_synbg_meta(out_dir: str) -> dict | None:
    """Meta data of a complete SynBG set, or None if ``out_dir`` is not one.

    A set is complete when its ``synbg_meta.json`` (written last) exists and
    every folder holds the number of files it lists.

    Args:
        out_dir (str): Root folder of a SynBG set.

    Returns:
        dict | None: The content of ``synbg_meta.json``.
    """
    return read_generated_set_meta(out_dir, SYNBG_LAYOUT)


def _write_train_split(
    out_dir: str, parameters: dict, progress: ProgressBar | None, write: ImageWriter
) -> list:
    """Writes the four training folders; returns their manifest entries."""
    entries = []
    train_images = _render_split(
        _STREAM_TRAIN,
        parameters['train_per_class'],
        parameters['image_size'],
        parameters['seed'],
        parameters['background_correlation'],
    )
    for stem, sample in train_images:
        relative = osp.join('train', CLASSES[sample.label], stem)
        path = {folder: osp.join(out_dir, folder, relative) for folder in TRAIN_FOLDERS}
        views = {
            'original': sample.image,
            'fg_mask': sample.mask.astype(np.uint8) * 255,
            'fg_grabcut': _blacken(sample.image, ~sample.mask),
            'only_bg_t': fill_box_with_background_tiles(sample.image, sample.box),
        }
        write(
            {
                path[folder] + ('.png' if folder == 'fg_mask' else '.JPEG'): view
                for folder, view in views.items()
            }
        )
        entries.append(_manifest_entry(stem, sample))
        if progress:
            progress.update()
    return entries


def _write_test_splits(
    out_dir: str, parameters: dict, progress: ProgressBar | None, write: ImageWriter
) -> list:
    """Writes every test split and the test masks; returns manifest entries.

    The mixed splits need every test image's ONLY-BG-T as a possible donor,
    so the test images are kept in memory between the two passes.
    """
    test_root = osp.join(out_dir, 'test_set')
    stems, samples, tiled_backgrounds = [], [], []
    test_images = _render_split(
        _STREAM_TEST,
        parameters['test_per_class'],
        parameters['image_size'],
        parameters['seed'],
        parameters['background_correlation'],
    )
    for stem, sample in test_images:
        tiled = fill_box_with_background_tiles(sample.image, sample.box)
        relative = osp.join('val', CLASSES[sample.label], stem)
        views = {
            'original': sample.image,
            'only_fg': _blacken(sample.image, ~sample.mask),
            'only_bg_b': _blacken(sample.image, _box_region(sample)),
            'only_bg_t': tiled,
            'no_fg': _blacken(sample.image, sample.mask),
        }
        images = {
            osp.join(test_root, split, relative) + '.JPEG': view
            for split, view in views.items()
        }
        images[osp.join(test_root, 'fg_mask', relative) + '.npy'] = sample.mask.astype(
            np.uint8
        )
        write(images)
        stems.append(stem)
        samples.append(sample)
        tiled_backgrounds.append(tiled)
        if progress:
            progress.update()

    entries = []
    all_donors = _draw_donors(samples, parameters['test_per_class'], parameters['seed'])
    for stem, sample, donors in zip(stems, samples, all_donors):
        entry = _manifest_entry(stem, sample)
        relative = osp.join('val', CLASSES[sample.label], stem)
        write(
            {
                osp.join(test_root, split, relative) + '.JPEG': hard_paste(
                    sample.image, sample.mask, tiled_backgrounds[donor]
                )
                for split, donor in donors.items()
            }
        )
        for split, donor in donors.items():
            entry[split] = {
                'donor': stems[donor],
                'donor_label': samples[donor].label,
                'background_label': samples[donor].background_label,
            }
        entries.append(entry)
        if progress:
            progress.update()
    return entries


def _manifest_entry(stem: str, sample: SynBGSample) -> dict:
    return {
        'stem': stem,
        'label': sample.label,
        'background_label': sample.background_label,
        'box': [int(value) for value in sample.box],
    }
