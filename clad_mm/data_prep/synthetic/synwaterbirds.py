"""SynWaterbirds: a small generated set in the official Waterbirds layout.

SynWaterbirds stands in for Waterbirds (Sagawa et al., "Distributionally
Robust Neural Networks for Group Shifts", ICLR 2020,
https://arxiv.org/abs/1911.08731), the home benchmark of ClusterFix
(Capitani et al., WACV 2024), in demos, tests and CPU experiments. As in
Waterbirds the target ``y`` is the bird type (0 landbird, 1 waterbird) and
the spurious attribute ``place`` is the background (0 land, 1 water):

* A bird is one of :data:`SPECIES`, three of each type, drawn near the
  centre of the image: landbirds are angular shapes (star, triangle,
  diamond) in saturated warm colours (red, yellow, orange), waterbirds round
  ones (disc, heart, half disc) in pale colours (white, pink, grey). The type
  is recognisable from the foreground alone, by its shape and its colour.
* A place fills the rest of the image: land is a blotchy field of greens
  (``bamboo_forest``) or browns (``field/cultivated``), water a field of
  blues (``ocean``, ``lake/natural``) under waves. It covers most of the
  image and the two places differ in both colour and texture, so it is the
  easier cue.
* In training a fraction ``place_correlation`` (0.95 by default, as in
  Waterbirds) of each type stands on its usual place (landbirds on land,
  waterbirds on water) and the rest on the other place: the two minority
  groups. The counts are exact: ``round((1 - place_correlation) * n)`` of
  the ``n`` birds of a type are minority birds. The validation and test
  splits are group-balanced, a quarter of each group (Waterbirds' val and
  test put half of each type on each place), so that worst-group accuracy
  shows whether a model follows the bird or the place. Types are balanced
  in every split (landbirds get the odd image).

Files are written in the official layout, ``waterbird_complete95_forest2water2``
(read by :class:`~clad_mm.datasets.WaterbirdsDataset`)::

    OUT_DIR/
      metadata.csv   img_id,img_filename,y,split,place,place_filename
                     y 0 landbird / 1 waterbird; split 0 train / 1 val /
                     2 test; place 0 land / 1 water; place_filename a
                     made-up path of the background, e.g.
                     /o/ocean/00000012.jpg; rows ordered by species
      <NNN.Species_Name>/<Species_Name>_<NNNN>.jpg   the images
      synwaterbirds_manifest.json   per image: its row, species and pose
      synwaterbirds_meta.json       parameters and counts; written last
      synwaterbirds_files.jsonl     every file written, recorded first

The defaults (64 px; 1200 training images, so 30 in each minority group;
400 validation and 800 test images) take a few seconds to build. The bias
is made stronger by a higher ``place_correlation`` (1 leaves the minority
groups empty) or smaller birds (``bird_size``, the mean radius as a fraction
of the side: less foreground to learn from), and weaker by the opposite (a
correlation of 0.5 removes it). Measured with the defaults: a three-layer
CNN trained from scratch on the training split (Adam, batch 32, CPU) is right
on every majority-group test image, but its worst group stays at or below
2 % for six epochs and reaches 73 % after twelve; with ``bird_size=0.25``
it reached 85 % after eight. Output-folder handling (keep a complete set
made with the same parameters, refuse anything else unless ``overwrite``,
which removes exactly what an earlier run wrote) is :mod:`.generated_set`'s.
Generation is deterministic: the groups of each split come in an order
seeded with ``(seed, split)``, and every image has its own random
generators, seeded with ``(seed, stream, split, index)``.
"""

import colorsys
import csv
import io
import math
import os.path as osp
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import write_atomically, write_image_atomically

from ..written_files import WrittenFiles
from .generated_set import (
    GeneratedSetLayout,
    finish_generated_set,
    prepare_out_dir,
    read_generated_set_meta,
)
from .synbg import _background_pattern, render_shape_mask

CLASSES = ('landbird', 'waterbird')
PLACES = ('land', 'water')
#: Split names by the ``split`` code of ``metadata.csv``.
SPLITS = ('train', 'val', 'test')
METADATA_FILE = 'metadata.csv'
METADATA_HEADER = ('img_id', 'img_filename', 'y', 'split', 'place', 'place_filename')
META_FILE = 'synwaterbirds_meta.json'
MANIFEST_FILE = 'synwaterbirds_manifest.json'
JOURNAL_FILE = 'synwaterbirds_files.jsonl'
DEFAULT_PLACE_CORRELATION = 0.95
DEFAULT_BIRD_SIZE = 0.2


class Species(NamedTuple):
    """One species: a shape of :data:`~.synbg.SHAPES` in one colour.

    Attributes:
        folder (str): CUB-style folder, ``NNN.Species_Name``.
        label (int): Its type, ``y``: 0 landbird, 1 waterbird.
        shape (str): A key of :data:`~.synbg.SHAPES`.
        hsv (tuple[float, float, float]): Its colour's hue, saturation and
            value, each in [0, 1].
    """

    folder: str
    label: int
    shape: str
    hsv: tuple

    @property
    def name(self) -> str:
        """``Species_Name``, the stem of its file names."""
        return self.folder.split('.', 1)[1]


#: Landbirds, then waterbirds. Every shape contains its centre, so a crop
#: of the image centre shows the bird's colour.
SPECIES = (
    Species('001.Scarlet_Star_Tanager', 0, 'star', (0.0, 0.85, 0.9)),
    Species('002.Golden_Triangle_Warbler', 0, 'triangle', (0.14, 0.9, 1.0)),
    Species('003.Orange_Diamond_Oriole', 0, 'diamond', (0.07, 0.9, 1.0)),
    Species('004.White_Disc_Gull', 1, 'circle', (0.0, 0.03, 0.95)),
    Species('005.Pink_Heart_Flamingo', 1, 'heart', (0.93, 0.4, 1.0)),
    Species('006.Grey_Hull_Pelican', 1, 'half_disc', (0.6, 0.06, 0.72)),
)
#: Background kinds of each place (named in ``place_filename``, as the
#: Places categories of the official file) with their hue range and
#: ``_background_pattern`` family.
PLACE_KINDS = (
    (
        ('bamboo_forest', (0.22, 0.34), 'blotches'),
        ('field/cultivated', (0.06, 0.12), 'blotches'),
    ),
    (
        ('ocean', (0.58, 0.64), 'waves'),
        ('lake/natural', (0.52, 0.57), 'waves'),
    ),
)

# Distinguishes the random streams of the group order of each split, the
# species and background kind of each image, and its pixels.
_STREAM_GROUPS, _STREAM_CHOICES, _STREAM_PIXELS = 0, 1, 2
# Largest offset of the bird's centre from the image centre, a fraction of
# the side; the radius varies this much around ``bird_size``; the largest
# rotation in radians.
_MAX_CENTRE_OFFSET = 0.06
_RADIUS_SPREAD = 0.15
_MAX_ROTATION = 0.4
# Unit shapes reach out to 1.12 of their radius, so the largest bird,
# 1.15 * 1.15 * 0.33 of the side from a centre offset by 0.06, stays inside.
_BIRD_SIZE_RANGE = (0.05, 0.33)
# Saturation and value ranges of the places, and how much darker the dark
# parts of their pattern are.
_PLACE_SATURATION = (0.45, 0.75)
_PLACE_VALUE = (0.45, 0.8)
_PLACE_PATTERN_DEPTH = 0.3
# Per-image jitter of a species' hue (either way) and value (a factor), the
# bird's brightness gradient across its radius, and the pixel noise.
_HUE_JITTER = 0.02
_VALUE_JITTER = (0.85, 1.05)
_SHADING = 0.15
_NOISE = 5.0


@dataclass(frozen=True)
class SynWaterbirdsLayout(GeneratedSetLayout):
    """What a SynWaterbirds set owns and holds in its output folder.

    Its images lie in species folders, not in the training views and test
    splits of :class:`GeneratedSetLayout`, so both of those are empty.

    Attributes:
        images_per_folder (tuple[tuple[str, int], ...]): ``(species folder,
            image count)`` of every species with images.
    """

    images_per_folder: tuple = ()

    @property
    def owned_entries(self) -> tuple:
        """Entries of the output folder that generation writes."""
        return (
            *(species.folder for species in SPECIES),
            METADATA_FILE,
            self.manifest_file,
            self.meta_file,
        )

    def files_per_folder(self, num_train: int, num_test: int) -> dict:
        """The number of files every species folder of a complete set holds.

        Args:
            num_train (int): Training images (the counts are the layout's).
            num_test (int): Test images (likewise).

        Returns:
            dict: ``{species folder: image count}``.
        """
        return dict(self.images_per_folder)


def synwaterbirds_layout(rows: list | tuple = ()) -> SynWaterbirdsLayout:
    """The layout of a SynWaterbirds set of the given images.

    Args:
        rows (Sequence[ImageRow]): Every image (:func:`draw_rows`); empty
            for a layout that only names the files.

    Returns:
        SynWaterbirdsLayout: Its files and counts.
    """
    counts = {}
    for row in rows:
        counts[row.species.folder] = counts.get(row.species.folder, 0) + 1
    return SynWaterbirdsLayout(
        name='SynWaterbirds',
        data_format='synwaterbirds',
        version=1,
        meta_file=META_FILE,
        manifest_file=MANIFEST_FILE,
        journal_file=JOURNAL_FILE,
        train_folders=(),
        test_splits=(),
        images_per_folder=tuple(sorted(counts.items())),
    )


class ImageRow(NamedTuple):
    """One image: its row of ``metadata.csv`` and how to draw it.

    Attributes:
        img_id (int): 1-based ``img_id``, the row's place in the file.
        img_filename (str): ``<species folder>/<Species_Name>_<NNNN>.jpg``.
        split (str): One of :data:`SPLITS`.
        index (int): Index of the image in its split's draw.
        species (Species): The bird; ``y`` is ``species.label``.
        place (int): 0 land, 1 water.
        kind (int): Index of its background kind in ``PLACE_KINDS[place]``.
        place_filename (str): Made-up path of its background.
    """

    img_id: int
    img_filename: str
    split: str
    index: int
    species: Species
    place: int
    kind: int
    place_filename: str

    @property
    def group(self) -> int:
        """Waterbirds' group, ``2 * y + place``."""
        return 2 * self.species.label + self.place


def split_group_counts(split: str, num_images: int, place_correlation: float):
    """How many images of each group a split holds.

    Args:
        split (str): One of :data:`SPLITS`.
        num_images (int): Images of the split.
        place_correlation (float): Fraction of each type on its usual place
            in training.

    Returns:
        list[int]: Counts of the groups ``2 * y + place``: in training
        ``round((1 - place_correlation) * n)`` of the ``n`` birds of each
        type on the other place (landbirds get the odd image); otherwise a
        quarter each, the first groups getting the remainder.
    """
    if split != 'train':
        return [num_images // 4 + (group < num_images % 4) for group in range(4)]
    landbirds = num_images - num_images // 2
    waterbirds = num_images // 2
    land_minority = round((1 - place_correlation) * landbirds)
    water_minority = round((1 - place_correlation) * waterbirds)
    return [
        landbirds - land_minority,
        land_minority,
        water_minority,
        waterbirds - water_minority,
    ]


def _place_filename(place: int, kind: int, source: int) -> str:
    name = PLACE_KINDS[place][kind][0]
    return f'/{name[0]}/{name}/{source:08d}.jpg'


def draw_rows(sizes: dict, place_correlation: float, seed: int) -> list:
    """Draws every image's split, group, species and background source.

    The groups of a split are its :func:`split_group_counts` in a seeded
    random order; species and background kind come from each image's own
    generator. Rows are ordered by species, then split and index, as the
    official file is by species; ``img_id`` counts them from 1.

    Args:
        sizes (dict): Images of each split, ``{'train': n, ...}``.
        place_correlation (float): See :func:`split_group_counts`.
        seed (int): The set's seed.

    Returns:
        list[ImageRow]: Every image, in ``metadata.csv``'s order.
    """
    drawn = []
    for code, split in enumerate(SPLITS):
        counts = split_group_counts(split, sizes[split], place_correlation)
        groups = np.repeat(np.arange(4), counts)
        groups = np.random.default_rng([seed, _STREAM_GROUPS, code]).permutation(groups)
        for index, group in enumerate(groups):
            rng = _image_rng(seed, _STREAM_CHOICES, split, index)
            label, place = divmod(int(group), 2)
            candidates = [species for species in SPECIES if species.label == label]
            species = candidates[int(rng.integers(len(candidates)))]
            kind = int(rng.integers(len(PLACE_KINDS[place])))
            # Every background has its own source number, over all splits.
            source = len(drawn) + 1
            drawn.append((species, split, index, place, kind, source))
    drawn.sort(
        key=lambda item: (SPECIES.index(item[0]), SPLITS.index(item[1]), item[2])
    )
    rows, per_species = [], {}
    for img_id, (species, split, index, place, kind, source) in enumerate(drawn, 1):
        number = per_species[species] = per_species.get(species, 0) + 1
        rows.append(
            ImageRow(
                img_id=img_id,
                img_filename=f'{species.folder}/{species.name}_{number:04d}.jpg',
                split=split,
                index=index,
                species=species,
                place=place,
                kind=kind,
                place_filename=_place_filename(place, kind, source),
            )
        )
    return rows


def _image_rng(seed: int, stream: int, split: str, index: int):
    """One of the image's own generators: its choices or its pixels."""
    return np.random.default_rng([seed, stream, SPLITS.index(split), index])


def _hsv_to_bgr(hue: float, saturation: float, value: float) -> np.ndarray:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return np.array([blue, green, red]) * 255


def render_place(
    place: int, kind: int, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Renders a background of a place: a field of its hues under a pattern.

    Args:
        place (int): 0 land (greens or browns, blotches), 1 water (blues,
            waves).
        kind (int): Index of the background kind in ``PLACE_KINDS[place]``.
        image_size (int): Side of the square image in pixels.
        rng (np.random.Generator): Source of the colours and the pattern.

    Returns:
        np.ndarray: H x W x 3 float64 BGR image in [0, 255].
    """
    _, hues, family = PLACE_KINDS[place][kind]
    hue = rng.uniform(*hues)
    light = _hsv_to_bgr(
        hue, rng.uniform(*_PLACE_SATURATION), rng.uniform(*_PLACE_VALUE)
    )
    pattern = _background_pattern(family, image_size, rng)[..., None]
    return light * (1 - _PLACE_PATTERN_DEPTH * pattern)


def render_bird(species: Species, image_size: int, bird_size: float, rng):
    """Renders a bird of a species in a random pose near the image centre.

    Args:
        species (Species): The bird.
        image_size (int): Side of the square image in pixels.
        bird_size (float): Mean radius, a fraction of the side.
        rng (np.random.Generator): The image's own generator.

    Returns:
        tuple: ``(colours, mask, pose)``: the H x W x 3 float64 BGR colours
        of the bird (defined everywhere), its H x W bool mask and the pose
        as a dict of ``center`` (x, y), ``radius`` (pixels) and ``angle``
        (radians).

    Raises:
        UserError: If the bird covers no pixel (``image_size`` too small).
    """
    radius = (
        image_size * bird_size * rng.uniform(1 - _RADIUS_SPREAD, 1 + _RADIUS_SPREAD)
    )
    offset = rng.uniform(-_MAX_CENTRE_OFFSET, _MAX_CENTRE_OFFSET, size=2)
    # The pixel grid's centre is (size - 1) / 2.
    center = (image_size - 1) / 2 + offset * image_size
    angle = rng.uniform(-_MAX_ROTATION, _MAX_ROTATION)
    mask = render_shape_mask(species.shape, image_size, center, radius, angle)
    if not mask.any():
        raise UserError(
            f'a {species.shape} bird covers no pixel of the {image_size} px '
            'image: image_size is too small'
        )
    hue, saturation, value = species.hsv
    colour = _hsv_to_bgr(
        hue + rng.uniform(-_HUE_JITTER, _HUE_JITTER),
        saturation,
        min(1.0, value * rng.uniform(*_VALUE_JITTER)),
    )
    rows, cols = np.mgrid[0:image_size, 0:image_size]
    direction = rng.uniform(0, 2 * np.pi)
    along = (cols - center[0]) * math.cos(direction)
    along = along + (rows - center[1]) * math.sin(direction)
    shading = 1 + _SHADING * along / radius
    pose = {
        'center': [float(value) for value in center],
        'radius': float(radius),
        'angle': float(angle),
    }
    return colour * shading[..., None], mask, pose


def render_image(row: ImageRow, parameters: dict) -> tuple:
    """Renders an image of ``metadata.csv``: its bird on its place.

    Args:
        row (ImageRow): The image.
        parameters (dict): The set's ``seed``, ``image_size`` and
            ``bird_size``.

    Returns:
        tuple: ``(image, entry)``: the H x W x 3 uint8 BGR image and its
        manifest entry.
    """
    size = parameters['image_size']
    rng = _image_rng(parameters['seed'], _STREAM_PIXELS, row.split, row.index)
    background = render_place(row.place, row.kind, size, rng)
    colours, mask, pose = render_bird(row.species, size, parameters['bird_size'], rng)
    image = np.where(mask[..., None], colours, background)
    image = image + rng.normal(0, _NOISE, size=image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    entry = {
        'img_id': row.img_id,
        'img_filename': row.img_filename,
        'y': row.species.label,
        'place': row.place,
        'group': row.group,
        'species': row.species.folder,
        'shape': row.species.shape,
        'place_filename': row.place_filename,
        **pose,
    }
    return image, entry


def metadata_csv(rows: list) -> str:
    """The text of ``metadata.csv``.

    Args:
        rows (Sequence[ImageRow]): Every image, in order.

    Returns:
        str: The header, then one line per image.
    """
    text = io.StringIO()
    writer = csv.writer(text, lineterminator='\n')
    writer.writerow(METADATA_HEADER)
    for row in rows:
        writer.writerow(
            (
                row.img_id,
                row.img_filename,
                row.species.label,
                SPLITS.index(row.split),
                row.place,
                row.place_filename,
            )
        )
    return text.getvalue()


def _validate_arguments(
    image_size: int, sizes: dict, place_correlation: float, bird_size: float
) -> None:
    if image_size < 16:
        raise UserError(f'image_size must be at least 16 pixels, got {image_size}')
    # Two birds of each type in training; every group in val and test.
    for name, count, least in (
        ('num_train', sizes['train'], 4),
        ('num_val', sizes['val'], 4),
        ('num_test', sizes['test'], 4),
    ):
        if count < least:
            raise UserError(f'{name} must be at least {least}, got {count}')
    if not 0 <= place_correlation <= 1:
        raise UserError(f'place_correlation must be in [0, 1], got {place_correlation}')
    least, largest = _BIRD_SIZE_RANGE
    if not least <= bird_size <= largest:
        raise UserError(f'bird_size must be in [{least}, {largest}], got {bird_size}')


def read_synwaterbirds_meta(out_dir: str) -> dict | None:
    """Meta data of a complete SynWaterbirds set, or None if there is none.

    A set is complete when its ``synwaterbirds_meta.json`` (written last)
    exists and every species folder holds the number of images it lists.

    Args:
        out_dir (str): Root folder of a SynWaterbirds set.

    Returns:
        dict | None: The content of ``synwaterbirds_meta.json``.
    """
    # Only the layout's file names and format are read: the counts to check
    # are the meta file's own.
    return read_generated_set_meta(out_dir, synwaterbirds_layout())


def generate_synwaterbirds(
    out_dir: str,
    image_size: int = 64,
    num_train: int = 1200,
    num_val: int = 400,
    num_test: int = 800,
    seed: int = 0,
    place_correlation: float = DEFAULT_PLACE_CORRELATION,
    bird_size: float = DEFAULT_BIRD_SIZE,
    overwrite: bool = False,
    show_progress: bool = True,
) -> dict:
    """Generates a SynWaterbirds set, or finds an identical one in place.

    If ``out_dir`` already holds a complete set made with the same parameters
    nothing is written, so callers can "generate if absent".

    Args:
        out_dir (str): Root folder to write; created if missing.
        image_size (int): Side of the square images in pixels.
        num_train (int): Training images (``split`` 0).
        num_val (int): Validation images (``split`` 1), group-balanced.
        num_test (int): Test images (``split`` 2), group-balanced.
        seed (int): Seed of every random choice; the same seed gives
            byte-identical files.
        place_correlation (float): Fraction of each type on its usual place
            in training; the strength of the bias (0.5: none).
        bird_size (float): Mean radius of the birds, a fraction of the side;
            smaller birds make the place the easier cue still.
        overwrite (bool): Remove the files an earlier run recorded in
            ``synwaterbirds_files.jsonl`` and generate anew instead of
            refusing a non-empty ``out_dir``. Other files are left alone;
            one inside the set's folders stops the run (naming it).
        show_progress (bool): Print a progress bar with elapsed time and ETA.

    Returns:
        dict: ``synwaterbirds_meta.json``'s content plus ``out_dir`` and
        ``generated`` (False when an existing set was kept).

    Raises:
        UserError: If an argument is out of range.
        OutputExistsError: If ``out_dir`` is a file; if it is not empty,
            holds no complete set made with these parameters and
            ``overwrite`` is False; or, with ``overwrite``, if the set's
            folders hold files no earlier run recorded.
    """
    sizes = {'train': num_train, 'val': num_val, 'test': num_test}
    _validate_arguments(image_size, sizes, place_correlation, bird_size)
    parameters = {
        'image_size': image_size,
        'num_train': num_train,
        'num_val': num_val,
        'num_test': num_test,
        'seed': seed,
        'place_correlation': place_correlation,
        'bird_size': bird_size,
    }
    rows = draw_rows(sizes, place_correlation, seed)
    layout = synwaterbirds_layout(rows)
    written = WrittenFiles(out_dir, JOURNAL_FILE, layout.name)
    if prepare_out_dir(out_dir, parameters, overwrite, layout, written):
        meta = read_generated_set_meta(out_dir, layout)
        return {**meta, 'out_dir': out_dir, 'generated': False}

    written.record(
        [osp.join(out_dir, row.img_filename) for row in rows]
        + [osp.join(out_dir, METADATA_FILE)]
    )
    progress = ProgressBar(len(rows)) if show_progress else None
    manifest = {split: [] for split in SPLITS}
    for row in rows:
        image, entry = render_image(row, parameters)
        write_image_atomically(osp.join(out_dir, row.img_filename), image)
        manifest[row.split].append(entry)
        if progress:
            progress.update()
    if progress:
        print()
    write_atomically(osp.join(out_dir, METADATA_FILE), metadata_csv(rows))
    return finish_generated_set(
        out_dir,
        layout,
        manifest,
        {
            'parameters': parameters,
            'classes': list(CLASSES),
            'places': list(PLACES),
            'species': [species.folder for species in SPECIES],
            'num_train': num_train,
            'num_val': num_val,
            'num_test': num_test,
            'group_counts': {
                split: split_group_counts(split, sizes[split], place_correlation)
                for split in SPLITS
            },
            'files_per_folder': layout.files_per_folder(num_train, num_test),
        },
        written,
    )
