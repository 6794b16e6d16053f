"""SynSOP: a small generated retrieval set in Stanford Online Products' layout.

SynSOP stands in for Stanford Online Products (SOP, Oh Song et al., CVPR
2016) in demos, tests and CPU experiments of deep metric learning, and shows
the background bias that BGAugment (Kobs & Hotho, "On Background Bias in Deep
Metric Learning", ICMV 2022) removes. In SOP every product (a class) was
photographed by its seller, usually all its photos in one place, so a model
can retrieve a product's other photos by their background alone. SynSOP
builds that in:

* Every class is one product: a shape (its super-class, e.g. ``star_final``)
  in one of :data:`COLOURS`, striped in one of :data:`STRIPE_ANGLES` (in the
  object's frame). Its photos vary the position, size, rotation, stripe phase
  and brightness, so they look alike in the foreground and unlike other
  products. Training and test products are disjoint combinations drawn from
  the same shapes, colours and stripe angles: retrieval of test products
  needs what generalises to new classes.
* Every product has its own *home* background, a smooth field of random
  colours under a random grating, and each of its photos (training and test)
  is a crop of it at a random offset of at most ``background_shift`` times
  the image side, with probability ``home_probability`` (1 by default);
  other photos show a background drawn for that photo alone. The background
  covers most of the image and differs strongly between products, so it is
  the easier cue: on the clean test set a model retrieves classmates by it.
* ``backgrounds/train`` and ``backgrounds/test`` hold two pools of
  object-free backgrounds from the same generator, none of them a
  product's home nor in the other pool, for BGAugment's training composites
  and for a test with replaced backgrounds.

Every photo is exactly ``alpha * object + (1 - alpha) * background`` (before
JPEG coding) with the soft matte ``alpha`` written beside it: the shape is
drawn at :data:`_SUPERSAMPLING` times the resolution, averaged down
(antialiased edges) and feathered by a Gaussian of about half a pixel.

Files are written in SOP's layout (``Ebay_info.txt``, optional, is not)::

    OUT_DIR/
      Ebay_train.txt, Ebay_test.txt   "image_id class_id super_class_id path"
                                      then one line per photo; 1-based ids,
                                      image ids restart in each file, class
                                      ids 1..C_train then C_train+1..C
      <shape>_final/<product id>_<k>.JPG          the photos
      masks/<shape>_final/<product id>_<k>.png    uint8 mattes, 0..255
      backgrounds/{train,test}/bg_<index>.jpg     the two pools
      synsop_manifest.json  per photo: class, pose, background and its offset
      synsop_meta.json      parameters and counts; written last
      synsop_files.jsonl    every file written, recorded before it is written

The defaults (64 px, 48 training and 48 test products of 6 photos each,
pools of 40) take about a second to build and let a small network train in
a few CPU minutes. Output-folder handling (keep a complete set made with the
same parameters, refuse anything else unless ``overwrite``, which removes
exactly what an earlier run wrote) is :mod:`.generated_set`'s. Generation is
deterministic: every product, photo and pool image has its own random
generator seeded with ``(seed, stream, index)``.
"""

import colorsys
import itertools
import math
import os.path as osp
from dataclasses import dataclass

import cv2
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
from .synbg import SHAPES, render_shape_mask

#: Super-classes, in the order of their ``super_class_id`` (1-based).
SHAPE_FAMILIES = tuple(SHAPES)
#: Product colours by name: hues of the colour circle, kept far apart.
COLOURS = {
    'red': 0.0,
    'yellow': 1 / 6,
    'green': 2 / 6,
    'cyan': 3 / 6,
    'blue': 4 / 6,
    'magenta': 5 / 6,
}
#: Stripe orientations of the products, in degrees in the object's frame;
#: 45 degrees apart, far more than the largest rotation of a photo.
STRIPE_ANGLES = (0, 45, 90, 135)
TRAIN_LIST_FILE = 'Ebay_train.txt'
TEST_LIST_FILE = 'Ebay_test.txt'
LIST_HEADER = 'image_id class_id super_class_id path'
MASK_FOLDER = 'masks'
BACKGROUND_FOLDER = 'backgrounds'
POOLS = ('train', 'test')
META_FILE = 'synsop_meta.json'
MANIFEST_FILE = 'synsop_manifest.json'
JOURNAL_FILE = 'synsop_files.jsonl'
DEFAULT_HOME_PROBABILITY = 1.0
DEFAULT_BACKGROUND_SHIFT = 0.06

# Distinguishes the random streams of the product draw, the homes, the photos
# and the pools.
_STREAM_PRODUCTS, _STREAM_HOME, _STREAM_PHOTO, _STREAM_POOL = 0, 1, 2, 3
# Shape radius as a fraction of the image side and the largest rotation in
# radians (less than half the stripe angles' spacing).
_RADIUS_RANGE = (0.2, 0.3)
_MAX_ROTATION = 0.35
# Stripe period as a fraction of the shape radius, and how dark the dark
# stripes are: with them every product has contrast on any background.
_STRIPE_PERIOD = 0.55
_DARK_STRIPE = 0.4
_BRIGHTNESS_RANGE = (0.8, 1.1)
# The shape is drawn this many times larger and averaged down: antialiasing.
_SUPERSAMPLING = 4
_FEATHER_SIGMA = 0.5
# Colour channel range (0-255) of the background fields, so neither a white
# nor a black background hides the bright or the dark stripes.
_BACKGROUND_LEVELS = (30, 225)
# A home must differ from its product's colour by at least this RGB distance
# on all but this fraction of its pixels, so that the product stays visible.
_MIN_HOME_CONTRAST = 80.0
_MAX_LOW_CONTRAST_FRACTION = 0.1


def _hsv_to_bgr(hue: float, saturation: float, value: float) -> np.ndarray:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return np.array([blue, green, red]) * 255


@dataclass(frozen=True)
class Product:
    """One class of SynSOP: a shape in a colour with stripes at an angle.

    Attributes:
        class_id (int): SOP's 1-based, contiguous ``class_id``.
        shape (str): A key of :data:`SHAPES`, its super-class.
        colour (str): A key of :data:`COLOURS`.
        stripe_angle (int): One of :data:`STRIPE_ANGLES`, in degrees.
    """

    class_id: int
    shape: str
    colour: str
    stripe_angle: int

    @property
    def super_class_id(self) -> int:
        """SOP's 1-based ``super_class_id``: the shape's family."""
        return SHAPE_FAMILIES.index(self.shape) + 1

    @property
    def super_folder(self) -> str:
        """Folder of the super-class, as SOP's ``chair_final``."""
        return f'{self.shape}_final'

    @property
    def product_id(self) -> str:
        """SOP-style numeric product id; file names are ``<id>_<k>.JPG``."""
        return f'{self.class_id:06d}'

    def image_path(self, index: int) -> str:
        """Path of photo ``index`` relative to the set's root (``/``-separated).

        Args:
            index (int): 0-based photo index within the product.

        Returns:
            str: ``<shape>_final/<product id>_<index>.JPG``.
        """
        return f'{self.super_folder}/{self.product_id}_{index}.JPG'

    def mask_path(self, index: int) -> str:
        """Path of the matte of photo ``index`` relative to the set's root.

        Args:
            index (int): 0-based photo index within the product.

        Returns:
            str: ``masks/<shape>_final/<product id>_<index>.png``.
        """
        return f'{MASK_FOLDER}/{self.super_folder}/{self.product_id}_{index}.png'


@dataclass(frozen=True)
class SOPLayout(GeneratedSetLayout):
    """What a generated set in SOP's layout owns and holds in its folder.

    Its photos lie in super-class folders, not in the training views and
    test splits of :class:`GeneratedSetLayout`, so both of those are empty
    and the number of files depends on how many products each shape has.

    Attributes:
        photos_per_folder (tuple[tuple[str, int], ...]): ``(super folder,
            photo count)`` of every super-class folder of the set.
        pool_size (int): Backgrounds in each pool.
    """

    photos_per_folder: tuple = ()
    pool_size: int = 0

    @property
    def owned_entries(self) -> tuple:
        """Entries of the output folder that generation writes.

        Every shape's folder is listed, not only this set's: an earlier run
        with other parameters may have written the others.
        """
        super_folders = tuple(f'{shape}_final' for shape in SHAPE_FAMILIES)
        return (
            *super_folders,
            MASK_FOLDER,
            BACKGROUND_FOLDER,
            TRAIN_LIST_FILE,
            TEST_LIST_FILE,
            self.manifest_file,
            self.meta_file,
        )

    def files_per_folder(self, num_train: int, num_test: int) -> dict:
        """The number of files every folder of a complete set holds.

        Args:
            num_train (int): Training photos.
            num_test (int): Test photos.

        Returns:
            dict: ``{folder relative to OUT_DIR: file count}``: the
            super-class folders, the mattes and the two pools.
        """
        counts = dict(self.photos_per_folder)
        counts[MASK_FOLDER] = num_train + num_test
        for pool in POOLS:
            counts[f'{BACKGROUND_FOLDER}/{pool}'] = self.pool_size
        return counts


def synsop_layout(products, images_per_class: int, pool_size: int) -> SOPLayout:
    """The layout of a SynSOP set of the given products.

    Args:
        products (Sequence[Product]): Every product, training and test.
        images_per_class (int): Photos per product.
        pool_size (int): Backgrounds in each pool.

    Returns:
        SOPLayout: Its files and counts.
    """
    photos = {}
    for product in products:
        photos[product.super_folder] = (
            photos.get(product.super_folder, 0) + images_per_class
        )
    return SOPLayout(
        name='SynSOP',
        data_format='synsop',
        version=1,
        meta_file=META_FILE,
        manifest_file=MANIFEST_FILE,
        journal_file=JOURNAL_FILE,
        train_folders=(),
        test_splits=(),
        photos_per_folder=tuple(sorted(photos.items())),
        pool_size=pool_size,
    )


def draw_products(num_train_classes: int, num_test_classes: int, seed: int) -> tuple:
    """Draws the training and then the test products, all different.

    Every combination of shape, colour and stripe angle is a possible
    product; a seeded permutation deals the first ``num_train_classes`` to
    training and the next ``num_test_classes`` to test. Within each split
    products are ordered by super-class, as in SOP.

    Args:
        num_train_classes (int): Training products, class ids from 1.
        num_test_classes (int): Test products, class ids after them.
        seed (int): Seed of the permutation.

    Returns:
        tuple[Product, ...]: Training products, then test products, with
        class ids ``1 .. num_train_classes + num_test_classes``.

    Raises:
        UserError: If there are fewer combinations than products.
    """
    combinations = list(itertools.product(SHAPE_FAMILIES, COLOURS, STRIPE_ANGLES))
    wanted = num_train_classes + num_test_classes
    if wanted > len(combinations):
        raise UserError(
            f'SynSOP has {len(combinations)} distinct products (shapes x colours '
            f'x stripe angles), fewer than the {wanted} training and test '
            'classes asked for'
        )
    order = np.random.default_rng([seed, _STREAM_PRODUCTS]).permutation(
        len(combinations)
    )
    chosen = [combinations[index] for index in order[:wanted]]
    # Sorting by the combination's place in the full list orders by shape.
    place = {combination: index for index, combination in enumerate(combinations)}
    train = sorted(chosen[:num_train_classes], key=place.__getitem__)
    test = sorted(chosen[num_train_classes:], key=place.__getitem__)
    return tuple(
        Product(class_id, *combination)
        for class_id, combination in enumerate(train + test, start=1)
    )


def render_background(side: int, rng: np.random.Generator) -> np.ndarray:
    """Renders a background: a smooth field of random colours under a grating.

    Homes and both pools come from this one generator, so a model cannot
    tell a pool image from a home by its kind.

    Args:
        side (int): Side of the square background in pixels.
        rng (np.random.Generator): Source of every choice.

    Returns:
        np.ndarray: ``side`` x ``side`` x 3 float64 BGR image in [0, 255].
    """
    cells = int(rng.integers(2, 5))
    coarse = rng.uniform(*_BACKGROUND_LEVELS, size=(cells, cells, 3))
    field = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_CUBIC)
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float64)
    orientation = rng.uniform(0, np.pi)
    period = side * rng.uniform(0.08, 0.25)
    across = rows * math.cos(orientation) + cols * math.sin(orientation)
    grating = 0.5 + 0.5 * np.sin(2 * np.pi * across / period + rng.uniform(0, 6.3))
    depth = rng.uniform(0.1, 0.35)
    return np.clip(field * (1 - depth * grating[..., None]), 0, 255)


def home_side(image_size: int, background_shift: float) -> int:
    """Side of a home background: the image plus the largest shift each way.

    Args:
        image_size (int): Side of the photos in pixels.
        background_shift (float): Largest crop offset, a fraction of it.

    Returns:
        int: The side in pixels.
    """
    return image_size + 2 * round(background_shift * image_size)


def render_home(
    product: Product, seed: int, image_size: int, background_shift: float
) -> np.ndarray:
    """Renders a product's home background, from which its photos are cut.

    Backgrounds are drawn until one keeps the product's colour visible
    (:data:`_MIN_HOME_CONTRAST`).

    Args:
        product (Product): The product.
        seed (int): The set's seed.
        image_size (int): Side of the photos in pixels.
        background_shift (float): Largest crop offset, a fraction of it.

    Returns:
        np.ndarray: H x W x 3 float64 BGR image in [0, 255], ``H = W =``
        :func:`home_side`.
    """
    rng = np.random.default_rng([seed, _STREAM_HOME, product.class_id])
    side = home_side(image_size, background_shift)
    colour = _hsv_to_bgr(COLOURS[product.colour], 0.9, 0.95)
    while True:
        home = render_background(side, rng)
        distance = np.linalg.norm(home - colour, axis=2)
        if np.mean(distance < _MIN_HOME_CONTRAST) <= _MAX_LOW_CONTRAST_FRACTION:
            return home


def render_pool_background(
    pool: str, index: int, seed: int, image_size: int
) -> np.ndarray:
    """Renders background ``index`` of a pool.

    Args:
        pool (str): ``'train'`` or ``'test'``.
        index (int): Index in the pool.
        seed (int): The set's seed.
        image_size (int): Side of the square background in pixels.

    Returns:
        np.ndarray: H x W x 3 uint8 BGR image.
    """
    rng = np.random.default_rng([seed, _STREAM_POOL, POOLS.index(pool), index])
    return np.round(render_background(image_size, rng)).astype(np.uint8)


def render_object(product: Product, image_size: int, rng: np.random.Generator):
    """Renders a product in a random pose: its colours and its soft matte.

    Args:
        product (Product): The product.
        image_size (int): Side of the square photo in pixels.
        rng (np.random.Generator): The photo's own random generator.

    Returns:
        tuple: ``(colours, alpha, pose)``: H x W x 3 float64 BGR colours of
        the object (defined everywhere), the H x W uint8 matte (0 outside,
        255 inside, in between at the edge) and the pose as a dict of
        ``center`` (x, y), ``radius`` (pixels) and ``angle`` (radians).
    """
    radius = image_size * rng.uniform(*_RADIUS_RANGE)
    # Unit shapes reach out to 1.12, so the whole shape stays inside.
    margin = radius * 1.15 + 1
    center = rng.uniform(margin, image_size - margin, size=2)
    angle = rng.uniform(-_MAX_ROTATION, _MAX_ROTATION)
    fine = render_shape_mask(
        product.shape,
        image_size * _SUPERSAMPLING,
        # The pixel centre x of the image is the fine pixel centre
        # S * x + (S - 1) / 2.
        center * _SUPERSAMPLING + (_SUPERSAMPLING - 1) / 2,
        radius * _SUPERSAMPLING,
        angle,
    )
    coverage = cv2.resize(
        fine.astype(np.float32),
        (image_size, image_size),
        interpolation=cv2.INTER_AREA,
    )
    coverage = cv2.GaussianBlur(coverage, (0, 0), _FEATHER_SIGMA)
    alpha = np.round(np.clip(coverage, 0, 1) * 255).astype(np.uint8)
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(np.float64)
    stripe_direction = angle + math.radians(product.stripe_angle)
    across = (cols - center[0]) * math.cos(stripe_direction)
    across = across + (rows - center[1]) * math.sin(stripe_direction)
    period = _STRIPE_PERIOD * radius
    wave = np.sin(2 * np.pi * across / period + rng.uniform(0, 2 * np.pi))
    # A steep but continuous profile: sharp stripes without aliasing.
    dark = np.clip(0.5 + 1.5 * wave, 0, 1)[..., None]
    brightness = rng.uniform(*_BRIGHTNESS_RANGE)
    bright_colour = _hsv_to_bgr(COLOURS[product.colour], 0.9, 0.95) * brightness
    colours = bright_colour * (1 - (1 - _DARK_STRIPE) * dark)
    pose = {
        'center': [float(value) for value in center],
        'radius': float(radius),
        'angle': float(angle),
    }
    return np.clip(colours, 0, 255), alpha, pose


def composite(colours: np.ndarray, alpha: np.ndarray, background: np.ndarray):
    """``alpha * colours + (1 - alpha) * background``, rounded to uint8.

    Args:
        colours (np.ndarray): H x W x 3 object colours.
        alpha (np.ndarray): H x W uint8 matte, 255 meaning opaque.
        background (np.ndarray): H x W x 3 background.

    Returns:
        np.ndarray: H x W x 3 uint8 image.
    """
    weight = alpha[..., None].astype(np.float64) / 255
    image = weight * colours + (1 - weight) * background
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def render_photo(
    product: Product,
    index: int,
    home: np.ndarray,
    parameters: dict,
) -> tuple:
    """Renders photo ``index`` of a product, on its home or not.

    Args:
        product (Product): The product.
        index (int): 0-based photo index within the product.
        home (np.ndarray): The product's home (:func:`render_home`).
        parameters (dict): The set's ``seed``, ``image_size`` and
            ``home_probability``.

    Returns:
        tuple: ``(image, alpha, entry)``: the H x W x 3 uint8 BGR photo, its
        H x W uint8 matte and its manifest entry (pose, whether the
        background is the home and the ``[x, y]`` crop offset in it).
    """
    size = parameters['image_size']
    rng = np.random.default_rng(
        [parameters['seed'], _STREAM_PHOTO, product.class_id, index]
    )
    colours, alpha, pose = render_object(product, size, rng)
    on_home = bool(rng.uniform() < parameters['home_probability'])
    if on_home:
        largest_offset = home.shape[0] - size
        x, y = (int(value) for value in rng.integers(0, largest_offset + 1, size=2))
        background = home[y : y + size, x : x + size]
        offset = [x, y]
    else:
        background = render_background(size, rng)
        offset = None
    entry = {
        'path': product.image_path(index),
        'mask': product.mask_path(index),
        'class_id': product.class_id,
        'on_home': on_home,
        'background_offset': offset,
        **pose,
    }
    return composite(colours, alpha, background), alpha, entry


def _validate_arguments(
    image_size: int,
    train_classes: int,
    test_classes: int,
    images_per_class: int,
    pool_size: int,
    home_probability: float,
    background_shift: float,
) -> None:
    if image_size < 16:
        raise UserError(f'image_size must be at least 16 pixels, got {image_size}')
    for name, count, least in (
        ('train_classes', train_classes, 2),
        ('test_classes', test_classes, 2),
        # Retrieval needs at least one classmate of every query.
        ('images_per_class', images_per_class, 2),
        ('pool_size', pool_size, 1),
    ):
        if count < least:
            raise UserError(f'{name} must be at least {least}, got {count}')
    if not 0 <= home_probability <= 1:
        raise UserError(f'home_probability must be in [0, 1], got {home_probability}')
    if not 0 <= background_shift <= 0.5:
        raise UserError(f'background_shift must be in [0, 0.5], got {background_shift}')


def read_synsop_meta(out_dir: str) -> dict | None:
    """Meta data of a complete SynSOP set, or None if ``out_dir`` is not one.

    A set is complete when its ``synsop_meta.json`` (written last) exists and
    every folder it lists holds the number of files it records.

    Args:
        out_dir (str): Root folder of a SynSOP set.

    Returns:
        dict | None: The content of ``synsop_meta.json``.
    """
    # Only the layout's file names and format are read: the counts to check
    # are the meta file's own.
    return read_generated_set_meta(out_dir, synsop_layout((), 0, 0))


def generate_synsop(
    out_dir: str,
    image_size: int = 64,
    train_classes: int = 48,
    test_classes: int = 48,
    images_per_class: int = 6,
    pool_size: int = 40,
    seed: int = 0,
    home_probability: float = DEFAULT_HOME_PROBABILITY,
    background_shift: float = DEFAULT_BACKGROUND_SHIFT,
    overwrite: bool = False,
    show_progress: bool = True,
) -> dict:
    """Generates a SynSOP set, or finds an identical one already in place.

    If ``out_dir`` already holds a complete set made with the same parameters
    nothing is written, so callers can "generate if absent".

    Args:
        out_dir (str): Root folder to write; created if missing.
        image_size (int): Side of the square photos, mattes and pool
            backgrounds in pixels.
        train_classes (int): Training products (``Ebay_train.txt``).
        test_classes (int): Test products (``Ebay_test.txt``).
        images_per_class (int): Photos per product.
        pool_size (int): Backgrounds in each of the two pools.
        seed (int): Seed of every random choice; the same seed gives
            byte-identical files.
        home_probability (float): Probability that a photo shows its
            product's home background; the strength of the background bias.
        background_shift (float): Largest offset of a photo's crop of the
            home, a fraction of the image side; larger offsets make a
            product's backgrounds less alike.
        overwrite (bool): Remove the files an earlier run recorded in
            ``synsop_files.jsonl`` and generate anew instead of refusing a
            non-empty ``out_dir``. Other files are left alone; one inside
            the set's folders stops the run (naming it).
        show_progress (bool): Print a progress bar with elapsed time and ETA.

    Returns:
        dict: ``synsop_meta.json``'s content plus ``out_dir`` and
        ``generated`` (False when an existing set was kept).

    Raises:
        UserError: If an argument is out of range.
        OutputExistsError: If ``out_dir`` is a file; if it is not empty,
            holds no complete set made with these parameters and
            ``overwrite`` is False; or, with ``overwrite``, if the set's
            folders hold files no earlier run recorded.
    """
    _validate_arguments(
        image_size,
        train_classes,
        test_classes,
        images_per_class,
        pool_size,
        home_probability,
        background_shift,
    )
    parameters = {
        'image_size': image_size,
        'train_classes': train_classes,
        'test_classes': test_classes,
        'images_per_class': images_per_class,
        'pool_size': pool_size,
        'seed': seed,
        'home_probability': home_probability,
        'background_shift': background_shift,
    }
    products = draw_products(train_classes, test_classes, seed)
    layout = synsop_layout(products, images_per_class, pool_size)
    written = WrittenFiles(out_dir, JOURNAL_FILE, layout.name)
    if prepare_out_dir(out_dir, parameters, overwrite, layout, written):
        meta = read_generated_set_meta(out_dir, layout)
        return {**meta, 'out_dir': out_dir, 'generated': False}

    progress = ProgressBar(len(products) + 2 * pool_size) if show_progress else None
    photos = _write_photos(out_dir, products, parameters, written, progress)
    backgrounds = _write_pools(out_dir, parameters, written, progress)
    if progress:
        print()
    train_products = products[:train_classes]
    num_train = len(train_products) * images_per_class
    num_test = len(products) * images_per_class - num_train
    manifest = {
        'products': [_product_entry(product) for product in products],
        'train': photos[:num_train],
        'test': photos[num_train:],
        'backgrounds': backgrounds,
    }
    return finish_generated_set(
        out_dir,
        layout,
        manifest,
        {
            'parameters': parameters,
            'super_classes': [f'{shape}_final' for shape in SHAPE_FAMILIES],
            'num_train': num_train,
            'num_test': num_test,
            'num_train_classes': train_classes,
            'num_test_classes': test_classes,
            'files_per_folder': layout.files_per_folder(num_train, num_test),
        },
        written,
    )


def _write_recorded_images(written: WrittenFiles, images: dict) -> None:
    written.record(images)
    for path, image in images.items():
        write_image_atomically(path, image)


def _write_photos(
    out_dir: str,
    products: tuple,
    parameters: dict,
    written: WrittenFiles,
    progress: ProgressBar | None,
) -> list:
    """Writes every photo, its matte and both image lists; returns entries."""
    entries = []
    list_lines = {TRAIN_LIST_FILE: [LIST_HEADER], TEST_LIST_FILE: [LIST_HEADER]}
    for product in products:
        home = render_home(
            product,
            parameters['seed'],
            parameters['image_size'],
            parameters['background_shift'],
        )
        is_train = product.class_id <= parameters['train_classes']
        lines = list_lines[TRAIN_LIST_FILE if is_train else TEST_LIST_FILE]
        for index in range(parameters['images_per_class']):
            image, alpha, entry = render_photo(product, index, home, parameters)
            _write_recorded_images(
                written,
                {
                    osp.join(out_dir, entry['path']): image,
                    osp.join(out_dir, entry['mask']): alpha,
                },
            )
            # The header is lines[0], so a line's place is its 1-based id.
            lines.append(
                f'{len(lines)} {product.class_id} {product.super_class_id} '
                f'{entry["path"]}'
            )
            entries.append(entry)
        if progress:
            progress.update()
    paths = {osp.join(out_dir, name): lines for name, lines in list_lines.items()}
    written.record(paths)
    for path, lines in paths.items():
        write_atomically(path, '\n'.join(lines) + '\n')
    return entries


def _write_pools(
    out_dir: str, parameters: dict, written: WrittenFiles, progress: ProgressBar | None
) -> dict:
    """Writes both background pools; returns ``{pool: [relative paths]}``."""
    listed = {}
    for pool in POOLS:
        listed[pool] = []
        for index in range(parameters['pool_size']):
            relative = f'{BACKGROUND_FOLDER}/{pool}/bg_{index:04d}.jpg'
            background = render_pool_background(
                pool, index, parameters['seed'], parameters['image_size']
            )
            _write_recorded_images(written, {osp.join(out_dir, relative): background})
            listed[pool].append(relative)
            if progress:
                progress.update()
    return listed


def _product_entry(product: Product) -> dict:
    return {
        'class_id': product.class_id,
        'super_class_id': product.super_class_id,
        'product_id': product.product_id,
        'shape': product.shape,
        'colour': product.colour,
        'stripe_angle': product.stripe_angle,
    }
