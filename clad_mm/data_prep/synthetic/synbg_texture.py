"""SynBG texture variant: a weight-free texture-bias data set for S-CLAD.

S-CLAD (the texture variant of CLAD, BMVC 2022) is evaluated
on Stylized ImageNet-9 and ImageNet-9-Sketch, which need AdaIN weights and
ImageNet-Sketch. This generator stands in for them where nothing can be
downloaded, as SynBG (:mod:`clad_mm.data_prep.synthetic.synbg`) does for the
Background Challenge. Every image shows one of nine solid shapes (the
label; :data:`CLASSES`) drawn as in a colouring book: a thin dark ink
outline (the shape's contour) filled with a texture of one of nine texture
families, on a neutral grey background that carries no class information.
A texture family is one of SynBG's background families: its own hue (family
``k`` sits at ``k / 9`` of the colour circle) and pattern, an easy cue. As
ImageNet's objects carry class-typical textures, the texture is correlated
with the label: an image of class ``y`` is filled with family ``y`` with
probability ``texture_correlation`` (0.8 by default) and with one of the
other eight families, chosen uniformly, otherwise. A plain classifier then
leans on texture, which the test splits measure (chance is 11.1 %):

- ``original``: like the training images (same correlation);
- ``random_texture``: the same shapes filled with a family other than the
  class's, chosen uniformly (a cue conflict, the analogue of Stylized IN-9);
- ``outline``: the same image without the texture, only the ink outline on
  the grey background: shape without texture (the analogue of
  IN-9-Sketch, whose sketches draw the contours that photos show);
- ``only_texture``: the class's texture family over the whole frame, no
  shape: accuracy here measures texture reliance (the analogue of
  ONLY-BG-T).

Measured with a ResNet-18 trained from scratch for the 8 CPU epochs of
``configs/s_clad/resnet18_synbg_texture_baseline.py`` on the default set,
mean of seeds 0-4: ORIGINAL 86.4 %, RANDOM-TEXTURE 36.9 %, OUTLINE 30.2 %,
ONLY-TEXTURE 22.0 %.

Files follow CLAD's training layout and the Background Challenge's test
layout, so that the existing datasets read them::

    OUT_DIR/
      original/train/<class>/<stem>.png        shape filled with a texture
      fg_mask/train/<class>/<stem>.png         binary mask of the textured
                                               inside (the outline lies
                                               just outside it), 0 or 255
      only_texture/train/<class>/<stem>.png    the image's own texture, full
                                               frame (S-CLAD's texture donors)
      test_set/<split>/val/<class>/<stem>.png  the four splits above
      test_set/fg_mask/val/<class>/<stem>.npy  H x W uint8 in {0, 1}
      synbg_texture_manifest.json  per image: label, texture label(s), box
      synbg_texture_meta.json      parameters and counts; written last
      synbg_texture_files.jsonl    every file written, recorded first

``only_texture/train`` holds, for every training image and in that image's
class folder, the full-frame texture its shape was cut from, so an original
image equals its ``only_texture`` image inside the mask, pixel for pixel.
Images are PNG: JPEG would smear the textures' colours over the grey
background and blur the outlines. Generation is deterministic: each image
has its own random generator seeded with ``(seed, split, index)``.
"""

import math
import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.datasets.transforms.foreground_paste import hard_paste
from clad_mm.utils.errors import UserError

from .generated_set import (
    GeneratedSetLayout,
    ImageWriter,
    generate_set,
    read_generated_set_meta,
)
from .synbg import (
    BACKGROUND_FAMILIES,
    draw_correlated_label,
    draw_other,
    draw_shape,
    render_background,
    shape_name,
)

#: SynBG's shapes without the two whose outline is ambiguous: a ring is itself
#: a thin closed stroke, the outline of any round shape, and a crescent is a
#: thin curved one; with them, outlines of circles, squares and hearts are
#: taken for rings by every model, whatever its texture bias. A half disc and
#: an arrow, solid shapes, take their places.
CLASSES = (
    '00_circle',
    '01_square',
    '02_triangle',
    '03_star',
    '04_cross',
    '05_half_disc',
    '06_arrow',
    '07_heart',
    '08_diamond',
)
#: Texture families: family ``k`` is SynBG's background family ``k``.
TEXTURE_FAMILIES = BACKGROUND_FAMILIES
TRAIN_FOLDERS = ('original', 'fg_mask', 'only_texture')
TEST_SPLITS = ('original', 'random_texture', 'outline', 'only_texture')
META_FILE = 'synbg_texture_meta.json'
MANIFEST_FILE = 'synbg_texture_manifest.json'
JOURNAL_FILE = 'synbg_texture_files.jsonl'
DEFAULT_TEXTURE_CORRELATION = 0.8
SYNBG_TEXTURE_LAYOUT = GeneratedSetLayout(
    name='SynBG texture',
    data_format='synbg_texture',
    # Version 2: ink outlines; half discs and arrows replace rings and crescents.
    version=2,
    meta_file=META_FILE,
    manifest_file=MANIFEST_FILE,
    journal_file=JOURNAL_FILE,
    train_folders=TRAIN_FOLDERS,
    test_splits=TEST_SPLITS,
)

# Distinguishes the random streams of the two splits.
_STREAM_TRAIN, _STREAM_TEST = 0, 1
# Grey levels (0-255) of the neutral background and of the ink outlines: the
# background is as bright as the textures, so that only their hue and pattern
# tell the shape apart from it; outlines are dark, like pencil strokes.
_BACKGROUND_GREY_RANGE = (150, 220)
_INK_GREY_RANGE = (30, 80)
# Standard deviations of the pixel noise of the background (the same on all
# three channels, so it stays grey) and of the textures (per channel).
_BACKGROUND_NOISE = 4.0
_TEXTURE_NOISE = 5.0
# Ink outline width as a fraction of the image side (2 px at 64 px).
_INK_WIDTH = 1 / 32
# Shapes turn freely, unlike SynBG's near-upright ones: on a plain grey
# background a ResNet-18 trained from scratch learns near-upright shapes
# within the 8 demo epochs well enough to resolve almost every texture
# conflict (ORIGINAL 98.8 %, RANDOM-TEXTURE 95.7 %: no texture bias left to
# measure); turning freely, they are learned slowly enough that a clear
# texture bias remains (90.8 % and 60.3 %). Measured on version 1 of the set
# (SynBG's nine shapes, no ink outline).
_MAX_ROTATION = math.pi


@dataclass
class TexturedShape:
    """One rendered shape with everything its views are derived from.

    Attributes:
        label (int): Class index of the shape.
        mask (np.ndarray): H x W bool mask of the shape's textured inside.
        box (tuple[int, int, int, int]): Tight box of the mask as
            ``(x0, y0, x1, y1)`` with exclusive ``x1`` and ``y1``.
        canvas (np.ndarray): H x W x 3 uint8 neutral grey background with
            the shape's ink outline drawn around the mask: the OUTLINE view.
        texture_label (int): Texture family of :attr:`texture`.
        texture (np.ndarray): H x W x 3 uint8 full-frame texture that fills
            the shape in the ORIGINAL view.
    """

    label: int
    mask: np.ndarray
    box: tuple
    canvas: np.ndarray
    texture_label: int
    texture: np.ndarray

    def filled_with(self, texture: np.ndarray) -> np.ndarray:
        """The outlined shape filled with ``texture``.

        Args:
            texture (np.ndarray): H x W x 3 uint8 full-frame texture.

        Returns:
            np.ndarray: H x W x 3 uint8 BGR image.
        """
        return hard_paste(texture, self.mask, self.canvas)


def render_texture(
    texture_label: int, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Renders a full-frame texture of one family: its hue and pattern.

    Args:
        texture_label (int): Index into :data:`TEXTURE_FAMILIES`.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): Source of the jitter and noise.

    Returns:
        np.ndarray: H x W x 3 uint8 BGR image.
    """
    texture = render_background(texture_label, image_size, rng)
    texture = texture + rng.normal(0, _TEXTURE_NOISE, size=texture.shape)
    return np.clip(np.round(texture), 0, 255).astype(np.uint8)


def render_neutral_background(image_size: int, rng: np.random.Generator) -> np.ndarray:
    """Renders a grey background with low-contrast noise.

    It is drawn without the label, so it carries no class information, and
    its three channels are equal, so it has no hue.

    Args:
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): Source of the grey level and noise.

    Returns:
        np.ndarray: H x W x 3 uint8 BGR image with equal channels.
    """
    grey = rng.uniform(*_BACKGROUND_GREY_RANGE)
    noise = rng.normal(0, _BACKGROUND_NOISE, size=(image_size, image_size))
    level = np.clip(np.round(grey + noise), 0, 255).astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=2)


def outline_region(mask: np.ndarray, width: int) -> np.ndarray:
    """The pixels outside ``mask`` at most ``width`` pixels from it.

    Args:
        mask (np.ndarray): H x W bool mask.
        width (int): Outline width in pixels, at least 1.

    Returns:
        np.ndarray: H x W bool mask of the outline, outside ``mask``.
    """
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    grown = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    return grown & ~mask


def render_textured_shape(
    label: int, texture_label: int, image_size: int, rng: np.random.Generator
) -> TexturedShape:
    """Renders a shape of class ``label`` and a texture of ``texture_label``.

    The shape's pose is drawn as in SynBG (:func:`draw_shape`), with any
    rotation, and the shape is outlined in ink, as in a colouring book: the
    outline is the shape's contour that OUTLINE keeps and the texture swap
    never touches, outside the mask.

    Args:
        label (int): Class index of the shape.
        texture_label (int): Texture family that fills the shape.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): The image's own random generator.

    Returns:
        TexturedShape: The shape, its outlined canvas and its texture.
    """
    canvas = render_neutral_background(image_size, rng)
    mask, box, _, _ = draw_shape(
        shape_name(CLASSES[label]), image_size, rng, _MAX_ROTATION
    )
    ink_width = max(1, round(image_size * _INK_WIDTH))
    canvas[outline_region(mask, ink_width)] = round(rng.uniform(*_INK_GREY_RANGE))
    texture = render_texture(texture_label, image_size, rng)
    return TexturedShape(label, mask, box, canvas, texture_label, texture)


def _validate_arguments(
    image_size: int,
    train_per_class: int,
    test_per_class: int,
    texture_correlation: float,
) -> None:
    if image_size < 16:
        raise UserError(f'image_size must be at least 16 pixels, got {image_size}')
    for name, count in (
        ('train_per_class', train_per_class),
        ('test_per_class', test_per_class),
    ):
        if count < 1:
            raise UserError(f'{name} must be at least 1, got {count}')
    if not 0 <= texture_correlation <= 1:
        raise UserError(
            f'texture_correlation must be in [0, 1], got {texture_correlation}'
        )


def read_synbg_texture_meta(out_dir: str) -> dict | None:
    """Meta data of a complete SynBG texture set, or None if there is none.

    A set is complete when its ``synbg_texture_meta.json`` (written last)
    exists and every folder holds the number of files it lists.

    Args:
        out_dir (str): Root folder of a SynBG texture set.

    Returns:
        dict | None: The content of ``synbg_texture_meta.json``.
    """
    return read_generated_set_meta(out_dir, SYNBG_TEXTURE_LAYOUT)


def generate_synbg_texture(
    out_dir: str,
    image_size: int = 64,
    train_per_class: int = 250,
    test_per_class: int = 75,
    seed: int = 0,
    texture_correlation: float = DEFAULT_TEXTURE_CORRELATION,
    overwrite: bool = False,
    show_progress: bool = True,
) -> dict:
    """Generates a SynBG texture set, or finds an identical one in place.

    If ``out_dir`` already holds a complete set made with the same parameters
    nothing is written, so callers can "generate if absent".

    Args:
        out_dir (str): Root folder to write; created if missing.
        image_size (int): Side of the square images in pixels, at least 16.
        train_per_class (int): Training images per class, at least 1.
        test_per_class (int): Test images per class (in every test split),
            at least 1.
        seed (int): Seed of every random choice; the same seed gives
            byte-identical files.
        texture_correlation (float): Probability that a shape is filled with
            its own class's texture family, in training and test ORIGINAL.
        overwrite (bool): Remove the files an earlier run recorded in
            ``synbg_texture_files.jsonl`` and generate anew instead of
            refusing a non-empty ``out_dir``. Other files are left alone;
            one inside the set's folders stops the run (naming it).
        show_progress (bool): Print a progress bar with elapsed time and ETA.

    Returns:
        dict: ``synbg_texture_meta.json``'s content plus ``out_dir`` and
        ``generated`` (False when an existing set was kept).

    Raises:
        ValueError: If an argument is out of range.
        OutputExistsError: If ``out_dir`` is a file; if it is not empty,
            holds no complete set made with these parameters and
            ``overwrite`` is False; or, with ``overwrite``, if the set's
            folders hold files no earlier run recorded.
    """
    _validate_arguments(
        image_size, train_per_class, test_per_class, texture_correlation
    )
    parameters = {
        'image_size': image_size,
        'train_per_class': train_per_class,
        'test_per_class': test_per_class,
        'seed': seed,
        'texture_correlation': texture_correlation,
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
        SYNBG_TEXTURE_LAYOUT,
        parameters,
        overwrite,
        show_progress,
        num_train + num_test,
        write_images,
        {
            'classes': list(CLASSES),
            'texture_families': list(TEXTURE_FAMILIES),
            'num_train': num_train,
            'num_test': num_test,
        },
    )


def _image_generators(stream: int, parameters: dict, per_class: int):
    """Yields ``(stem, label, rng)`` for every image of one split."""
    split_name = 'train' if stream == _STREAM_TRAIN else 'test'
    for index in range(per_class * len(CLASSES)):
        rng = np.random.default_rng([parameters['seed'], stream, index])
        yield f'synbg_texture_{split_name}_{index:06d}', index // per_class, rng


def _manifest_entry(stem: str, shape: TexturedShape) -> dict:
    return {
        'stem': stem,
        'label': shape.label,
        'texture_label': shape.texture_label,
        'box': [int(value) for value in shape.box],
    }


def _write_train_split(
    out_dir: str, parameters: dict, progress: ProgressBar | None, write: ImageWriter
) -> list:
    """Writes the three training folders; returns their manifest entries."""
    entries = []
    images = _image_generators(_STREAM_TRAIN, parameters, parameters['train_per_class'])
    for stem, label, rng in images:
        texture_label = draw_correlated_label(
            label, parameters['texture_correlation'], rng
        )
        shape = render_textured_shape(
            label, texture_label, parameters['image_size'], rng
        )
        relative = osp.join('train', CLASSES[label], stem + '.png')
        views = {
            'original': shape.filled_with(shape.texture),
            'fg_mask': shape.mask.astype(np.uint8) * 255,
            'only_texture': shape.texture,
        }
        write(
            {
                osp.join(out_dir, folder, relative): view
                for folder, view in views.items()
            }
        )
        entries.append(_manifest_entry(stem, shape))
        if progress:
            progress.update()
    return entries


def _write_test_splits(
    out_dir: str, parameters: dict, progress: ProgressBar | None, write: ImageWriter
) -> list:
    """Writes every test split and the test masks; returns manifest entries."""
    test_root = osp.join(out_dir, 'test_set')
    image_size = parameters['image_size']
    entries = []
    images = _image_generators(_STREAM_TEST, parameters, parameters['test_per_class'])
    for stem, label, rng in images:
        texture_label = draw_correlated_label(
            label, parameters['texture_correlation'], rng
        )
        conflict_label = draw_other(rng, 0, len(TEXTURE_FAMILIES), label)
        shape = render_textured_shape(label, texture_label, image_size, rng)
        views = {
            'original': shape.filled_with(shape.texture),
            'random_texture': shape.filled_with(
                render_texture(conflict_label, image_size, rng)
            ),
            'outline': shape.canvas,
            'only_texture': render_texture(label, image_size, rng),
        }
        relative = osp.join('val', CLASSES[label], stem)
        images = {
            osp.join(test_root, split, relative) + '.png': view
            for split, view in views.items()
        }
        images[osp.join(test_root, 'fg_mask', relative) + '.npy'] = shape.mask.astype(
            np.uint8
        )
        write(images)
        entry = _manifest_entry(stem, shape)
        entry['random_texture'] = {'texture_label': conflict_label}
        entry['only_texture'] = {'texture_label': label}
        entries.append(entry)
        if progress:
            progress.update()
    return entries
