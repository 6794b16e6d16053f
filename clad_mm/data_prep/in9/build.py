"""Rebuilding ImageNet-9 (IN-9) from ImageNet and its bounding boxes.

Follows the construction of the Background Challenge (Xiao et al., "Noise
or Signal: The Role of Image Backgrounds in Object Recognition", ICLR 2021),
whose training set CLAD (BMVC 2022) trains on (DESIGN.md §4). An ImageNet
training image of a synset mapped to an IN-9 class is kept when, in order:

1. it has a bounding-box XML (else rule ``no_annotation``) with exactly one
   box (else ``box_count``);
2. after Resize(256, short side) + CenterCrop(224) the box, transformed and
   clipped, keeps at least 50 % of its area (else ``box_cropped``) and
   covers at most 90 % of the crop (else ``box_too_large``);
3. ``cv2.grabCut`` on the 224 px crop, initialised with the box, 5
   iterations, finds a foreground (definite or probable) of at least 10 % of
   the box (else ``small_mask``).

The build runs in two passes over a process pool, both resumable:

- *scan*: applies the rules to every candidate and caches the mask of each
  kept image in ``OUT_ROOT/.prepare_in9/`` with one line per decided image
  in ``scan.jsonl``;
- *write*: once every image is decided, a seeded, deterministic draw over
  the sorted kept images picks the validation images (and, with
  ``balanced``, exactly ``per_class`` training images per class) and every
  view is written::

    OUT_ROOT/
      original/{train,val}/<class>/<stem>.JPEG    224 px crop
      fg_mask/train/<class>/<stem>.png            0 or 255
      fg_mask/val/<class>/<stem>.npy              0 or 1, as the test release
      only_bg_t/{train,val}/<class>/<stem>.JPEG   box filled with tiles
      only_fg/train/<class>/<stem>.JPEG           object on black
      mixed_rand/{train,val}/<class>/<stem>.JPEG  object on another ONLY-BG-T
      mixed_same/val/..., mixed_next/val/...
      prepare_in9_state.json                      marks a prepare_in9 output
      prepare_in9_report.json                     counts, rejections, errors

Class folders are ``00_dog`` ... ``08_fish``. A mixed view pastes the
object (its GrabCut mask) at its own place on the ONLY-BG-T of a donor: a
random other image of the same class (MIXED-SAME), of any class
(MIXED-RAND) or of class ``(y + 1) mod 9`` (MIXED-NEXT), drawn within the
same subset. ``BGChallengeTrainDataset`` reads the training folders
(``fg_mask``, so no ``fg_grabcut`` folder is needed) and
``BGChallengeTestDataset`` the validation ones.
"""

import hashlib
import json
import math
import multiprocessing
import os
import os.path as osp
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.evaluation.imagenet_to_in9 import (
    IN9_CLASSES,
    NUM_IMAGENET_CLASSES,
    UNMAPPED,
    imagenet_to_in9_table,
)

from .folder_layout import IMAGE_EXTENSIONS, list_stems, require_dir
from .foreground_masks import (
    fill_box_with_background_tiles,
    grabcut_mask,
    only_fg_image,
    read_voc_boxes,
)
from .transforms.foreground_paste import hard_paste

#: Rejection rules in the order they are applied.
RULES = ('no_annotation', 'box_count', 'box_cropped', 'box_too_large', 'small_mask')
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224
MIN_BOX_KEPT = 0.5
MAX_BOX_COVERAGE = 0.9
MIN_MASK_FRACTION = 0.1
GRABCUT_ITERATIONS = 5
#: Image counts of the published IN-9 training set.
IN9_TRAIN_PER_CLASS = 5045

CLASS_FOLDERS = tuple(f'{index:02d}_{name}' for index, name in enumerate(IN9_CLASSES))
TRAIN_VIEWS = ('original', 'fg_mask', 'only_bg_t', 'only_fg', 'mixed_rand')
VAL_VIEWS = (
    'original',
    'fg_mask',
    'only_bg_t',
    'mixed_same',
    'mixed_rand',
    'mixed_next',
)
STATE_FILE = 'prepare_in9_state.json'
REPORT_FILE = 'prepare_in9_report.json'
CACHE_DIR = '.prepare_in9'
SCAN_LOG = 'scan.jsonl'
JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, 95]
FORMAT = 'prepare_in9'
# Entries of OUT_ROOT that the build writes; only these are removed by
# ``overwrite=True``, so unrelated files of the user survive.
_OWNED_ENTRIES = (
    *dict.fromkeys(TRAIN_VIEWS + VAL_VIEWS),
    CACHE_DIR,
    STATE_FILE,
    REPORT_FILE,
)
_WNID = re.compile(r'^n\d{8}$')
# Random streams of the subset draw and of the donor draws.
_STREAM_SUBSETS, _STREAM_VAL_DONORS, _STREAM_TRAIN_DONORS = 0, 1, 2


def read_synset_order(path: str) -> list[str]:
    """Reads the 1000 ImageNet synsets in class-index order.

    Accepts ``LOC_synset_mapping.txt`` (``n01440764 tench, Tinca tinca`` per
    line) or one WordNet id per line; blank lines are ignored.

    Args:
        path (str): The synsets file.

    Returns:
        list[str]: The WordNet ids; entry ``i`` is ImageNet class ``i``.

    Raises:
        ValueError: Naming the file and line, if a line does not start with a
            WordNet id (``n`` and 8 digits), an id repeats, or the file does
            not list exactly 1000 synsets.
    """
    synsets = []
    with open(path, encoding='utf-8') as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            wnid = line.split()[0]
            if not _WNID.match(wnid):
                raise ValueError(
                    f'{path}, line {number}: expected a WordNet id such as '
                    f"'n01440764' at the start of the line, got {line.strip()!r}"
                )
            synsets.append(wnid)
    _require_imagenet_synsets(synsets, path)
    return synsets


def synset_order_from_folders(imagenet_root: str) -> list[str]:
    """The sorted synset folders of an ImageNet training root.

    Args:
        imagenet_root (str): Folder holding one ``<wnid>/`` folder per class.

    Returns:
        list[str]: The 1000 folder names, sorted (ImageNet's class order).

    Raises:
        ValueError: If the root does not hold exactly 1000 synset folders.
    """
    require_dir(imagenet_root, 'the ImageNet train folder with <wnid>/ folders')
    with os.scandir(imagenet_root) as entries:
        folders = sorted(entry.name for entry in entries if entry.is_dir())
    synsets = [name for name in folders if _WNID.match(name)]
    if len(synsets) != NUM_IMAGENET_CLASSES:
        raise ValueError(
            f'{imagenet_root} holds {len(synsets)} synset folders, not '
            f'{NUM_IMAGENET_CLASSES}, so their sorted order cannot give the '
            'ImageNet class indices; pass --synsets LOC_synset_mapping.txt '
            '(the 1000 synsets in class order)'
        )
    return synsets


def _require_imagenet_synsets(synsets: Sequence[str], source: str) -> None:
    repeated = sorted(wnid for wnid, count in Counter(synsets).items() if count > 1)
    if repeated:
        raise ValueError(f'{source} lists synsets more than once: {repeated[:5]}')
    if len(synsets) != NUM_IMAGENET_CLASSES:
        raise ValueError(
            f'{source} lists {len(synsets)} synsets; expected the '
            f'{NUM_IMAGENET_CLASSES} ImageNet-1k synsets in class order'
        )


def in9_synset_labels(synsets: Sequence[str]) -> dict[str, int]:
    """IN-9 label of every synset that belongs to an IN-9 class.

    Args:
        synsets (Sequence[str]): The 1000 synsets in ImageNet class order.

    Returns:
        dict[str, int]: ``{wnid: IN-9 label}`` for the 370 mapped synsets.
    """
    _require_imagenet_synsets(synsets, 'the synset order')
    table = imagenet_to_in9_table().tolist()
    return {wnid: label for wnid, label in zip(synsets, table) if label != UNMAPPED}


def crop_geometry(height: int, width: int) -> tuple[int, int, int, int]:
    """Size after Resize(256, short side) and offset of CenterCrop(224).

    Sizes are rounded as MMPretrain's ``ResizeEdge`` and offsets as
    ``CenterCrop`` round them, so the crop equals the test pipeline's.

    Args:
        height (int): Source image height.
        width (int): Source image width.

    Returns:
        tuple[int, int, int, int]: ``(resized_width, resized_height,
        crop_x0, crop_y0)``.
    """
    if width < height:
        resized = (RESIZE_SHORT_SIDE, int(RESIZE_SHORT_SIDE * height / width))
    else:
        resized = (int(RESIZE_SHORT_SIDE * width / height), RESIZE_SHORT_SIDE)
    crop_x0 = max(0, int(round((resized[0] - CROP_SIZE) / 2)))
    crop_y0 = max(0, int(round((resized[1] - CROP_SIZE) / 2)))
    return (*resized, crop_x0, crop_y0)


def resize_and_center_crop(image: np.ndarray) -> np.ndarray:
    """Resize(256, short side, bilinear) then CenterCrop(224).

    Args:
        image (np.ndarray): H x W x C source image.

    Returns:
        np.ndarray: The 224 x 224 crop.
    """
    resized_width, resized_height, x0, y0 = crop_geometry(*image.shape[:2])
    resized = cv2.resize(
        image, (resized_width, resized_height), interpolation=cv2.INTER_LINEAR
    )
    return resized[y0 : y0 + CROP_SIZE, x0 : x0 + CROP_SIZE]


def box_in_crop(box, height: int, width: int) -> tuple[tuple, float, float]:
    """A source box after Resize(256) + CenterCrop(224), and what it keeps.

    Args:
        box (Sequence[float]): ``(x0, y0, x1, y1)`` in source pixels, ends
            exclusive.
        height (int): Source image height.
        width (int): Source image width.

    Returns:
        tuple: The clipped box in crop coordinates (floats), the share of
        the transformed box's area inside the crop, and the share of the
        crop's area the clipped box covers.
    """
    resized_width, resized_height, crop_x0, crop_y0 = crop_geometry(height, width)
    scale_x, scale_y = resized_width / width, resized_height / height
    x0, y0, x1, y1 = box
    moved = (
        x0 * scale_x - crop_x0,
        y0 * scale_y - crop_y0,
        x1 * scale_x - crop_x0,
        y1 * scale_y - crop_y0,
    )
    clipped = tuple(min(max(value, 0.0), float(CROP_SIZE)) for value in moved)
    area = max(moved[2] - moved[0], 0.0) * max(moved[3] - moved[1], 0.0)
    clipped_area = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1])
    kept = clipped_area / area if area > 0 else 0.0
    return clipped, kept, clipped_area / CROP_SIZE**2


def pixel_box(box) -> tuple[int, int, int, int]:
    """The smallest whole-pixel box holding a float box of the crop.

    Args:
        box (Sequence[float]): ``(x0, y0, x1, y1)`` inside the crop.

    Returns:
        tuple[int, int, int, int]: Integer ``(x0, y0, x1, y1)``, ends
        exclusive, at least one pixel wide and high.
    """
    x0, y0 = (min(math.floor(value), CROP_SIZE - 1) for value in box[:2])
    x1 = min(max(math.ceil(box[2]), x0 + 1), CROP_SIZE)
    y1 = min(max(math.ceil(box[3]), y0 + 1), CROP_SIZE)
    return x0, y0, x1, y1


def read_image(path: str) -> np.ndarray:
    """Decodes an image file as 3-channel BGR.

    Args:
        path (str): The image file.

    Returns:
        np.ndarray: H x W x 3 uint8 image.

    Raises:
        ValueError: Naming the file, if it is missing or cannot be decoded.
    """
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'{path} cannot be decoded as an image')
    return image


def _write_atomically(path: str, content: bytes) -> None:
    # A run killed mid-write leaves a temporary file, never a truncated
    # output that a resumed run could take for a finished one.
    os.makedirs(osp.dirname(path), exist_ok=True)
    temporary = f'{path}.tmp{os.getpid()}'
    with open(temporary, 'wb') as file:
        file.write(content)
    os.replace(temporary, path)


def _write_image(path: str, image: np.ndarray) -> None:
    params = JPEG_PARAMS if path.endswith('.JPEG') else []
    extension = '.jpg' if path.endswith('.JPEG') else osp.splitext(path)[1]
    ok, encoded = cv2.imencode(extension, image, params)
    if not ok:
        raise ValueError(f'OpenCV could not encode {path}')
    _write_atomically(path, encoded.tobytes())


def _write_npy(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    temporary = f'{path}.tmp{os.getpid()}.npy'
    np.save(temporary, array)
    os.replace(temporary, path)


def _decodes(path: str) -> bool:
    if not osp.isfile(path):
        return False
    if path.endswith('.npy'):
        try:
            np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return False
        return True
    return cv2.imread(path, cv2.IMREAD_UNCHANGED) is not None


def scan_image(task: dict) -> dict:
    """Applies the IN-9 rules to one image (the scan pass's worker).

    Args:
        task (dict): ``key`` (``<wnid>/<stem>``), ``image_path``,
            ``xml_path`` (None when the image has no annotation) and
            ``mask_path`` (where a kept image's mask is cached).

    Returns:
        dict: ``key`` and ``outcome``: ``'kept'`` with ``box`` (integer crop
        box) and ``mask_fraction``; ``'rejected'`` with ``rule``; or
        ``'failed'`` with ``path`` and ``error`` for an unreadable file.
    """
    result = {'key': task['key']}
    if task['xml_path'] is None:
        return {**result, 'outcome': 'rejected', 'rule': 'no_annotation'}
    try:
        boxes, _ = read_voc_boxes(task['xml_path'])
    except ValueError as error:
        return {
            **result,
            'outcome': 'failed',
            'path': task['xml_path'],
            'error': str(error),
        }
    if len(boxes) != 1:
        return {**result, 'outcome': 'rejected', 'rule': 'box_count'}
    try:
        image = read_image(task['image_path'])
    except ValueError as error:
        return {
            **result,
            'outcome': 'failed',
            'path': task['image_path'],
            'error': str(error),
        }
    clipped, kept, coverage = box_in_crop(boxes[0], *image.shape[:2])
    if kept < MIN_BOX_KEPT:
        return {**result, 'outcome': 'rejected', 'rule': 'box_cropped'}
    if coverage > MAX_BOX_COVERAGE:
        return {**result, 'outcome': 'rejected', 'rule': 'box_too_large'}
    box = pixel_box(clipped)
    crop = resize_and_center_crop(image)
    mask = grabcut_mask(crop, box, GRABCUT_ITERATIONS)
    mask_fraction = float(mask.sum()) / ((box[2] - box[0]) * (box[3] - box[1]))
    if mask_fraction < MIN_MASK_FRACTION:
        return {**result, 'outcome': 'rejected', 'rule': 'small_mask'}
    _write_image(task['mask_path'], mask * 255)
    return {**result, 'outcome': 'kept', 'box': box, 'mask_fraction': mask_fraction}


def list_candidates(
    imagenet_root: str, bbox_root: str, synset_labels: dict[str, int]
) -> tuple[list[dict], list[str]]:
    """Lists the images of the mapped synsets with their annotations.

    Only the folders of mapped synsets are listed; a mapped synset without
    a folder (a partial ImageNet copy) is returned, for the report, rather
    than raising: each class must still have enough kept images later on.
    An image's XML is
    ``BBOX_ROOT/<wnid>/<stem>.xml``, or ``BBOX_ROOT/<stem>.xml`` for a
    synset without its own folder there.

    Args:
        imagenet_root (str): ImageNet train folder, ``<wnid>/<stem>.JPEG``.
        bbox_root (str): Folder of the Pascal-VOC XMLs.
        synset_labels (dict[str, int]): ``{wnid: IN-9 label}``.

    Returns:
        tuple[list[dict], list[str]]: The candidates, each with ``key``,
        ``wnid``, ``stem``, ``label``, ``image_path`` and ``xml_path`` (None
        without annotation), synset by synset in sorted stem order; and the
        mapped synsets without a folder in ``imagenet_root``.

    Raises:
        FileNotFoundError: If a root is missing.
    """
    require_dir(imagenet_root, 'the ImageNet train folder with <wnid>/ folders')
    require_dir(bbox_root, 'bounding-box XMLs as <wnid>/<stem>.xml or <stem>.xml')
    missing = [
        wnid for wnid in synset_labels if not osp.isdir(osp.join(imagenet_root, wnid))
    ]
    flat_xmls = None
    candidates = []
    for wnid in sorted(set(synset_labels) - set(missing)):
        xml_dir = osp.join(bbox_root, wnid)
        if osp.isdir(xml_dir):
            with os.scandir(xml_dir) as entries:
                xmls = {entry.name for entry in entries}
        else:
            if flat_xmls is None:
                with os.scandir(bbox_root) as entries:
                    flat_xmls = {entry.name for entry in entries if entry.is_file()}
            xml_dir, xmls = bbox_root, flat_xmls
        image_dir = osp.join(imagenet_root, wnid)
        for stem, name in sorted(list_stems(image_dir, IMAGE_EXTENSIONS).items()):
            xml_name = f'{stem}.xml'
            candidates.append(
                dict(
                    key=f'{wnid}/{stem}',
                    wnid=wnid,
                    stem=stem,
                    label=synset_labels[wnid],
                    image_path=osp.join(image_dir, name),
                    xml_path=osp.join(xml_dir, xml_name) if xml_name in xmls else None,
                )
            )
    return candidates, sorted(missing)


def assign_subsets(
    kept: dict[int, list[str]],
    val_per_class: int,
    per_class: int | None,
    seed: int,
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Draws the validation and training images of every class.

    The draw depends only on the sorted kept keys and the seed, so a resumed
    run picks the same images.

    Args:
        kept (dict[int, list[str]]): Kept image keys by IN-9 label.
        val_per_class (int): Validation images per class, 0 or at least 2
            (MIXED-SAME needs another image of the class).
        per_class (int, optional): Training images per class; None keeps
            every image not drawn for validation.
        seed (int): Seed of the draw.

    Returns:
        tuple[dict, dict]: Training and validation keys by label, sorted.

    Raises:
        ValueError: Naming every class with too few kept images.
    """
    if val_per_class == 1 or val_per_class < 0:
        raise ValueError(
            f'val_per_class must be 0 or at least 2 (MIXED-SAME pastes on '
            f'another image of the class), got {val_per_class}'
        )
    needed = val_per_class + (per_class or 1)
    short = {
        CLASS_FOLDERS[label]: len(kept.get(label, ()))
        for label in range(len(IN9_CLASSES))
        if len(kept.get(label, ())) < needed
    }
    if short:
        raise ValueError(
            f'Too few kept images: {short} (class folder: kept images), but '
            f'every class needs {needed} ({val_per_class} for validation and '
            f'{per_class or "at least 1"} for training); lower --per-class or '
            '--val-per-class'
        )
    train, val = {}, {}
    for label in range(len(IN9_CLASSES)):
        rng = np.random.default_rng([seed, _STREAM_SUBSETS, label])
        keys = sorted(kept[label])
        order = [keys[index] for index in rng.permutation(len(keys))]
        val[label] = sorted(order[:val_per_class])
        rest = order[val_per_class:]
        train[label] = sorted(rest if per_class is None else rest[:per_class])
    return train, val


def draw_donors(
    keys_by_label: dict[int, list[str]], splits: Sequence[str], rng
) -> dict[str, dict[str, str]]:
    """Draws the background donor of every image for each mixed view.

    A donor is never the image itself: MIXED-SAME takes another image of the
    same class, MIXED-RAND any other image, MIXED-NEXT an image of class
    ``(y + 1) mod 9``.

    Args:
        keys_by_label (dict[int, list[str]]): Image keys by label.
        splits (Sequence[str]): Mixed views to draw for.
        rng (np.random.Generator): Source of the draws.

    Returns:
        dict[str, dict[str, str]]: ``{key: {split: donor key}}``.
    """
    everything = [
        key for label in sorted(keys_by_label) for key in keys_by_label[label]
    ]
    position = {key: index for index, key in enumerate(everything)}
    donors = {}
    for label in sorted(keys_by_label):
        same = keys_by_label[label]
        following = keys_by_label[(label + 1) % len(IN9_CLASSES)]
        for index, key in enumerate(same):
            donors[key] = {}
            for split in splits:
                if split == 'mixed_same':
                    donor = same[_draw_other(rng, len(same), index)]
                elif split == 'mixed_rand':
                    donor = everything[_draw_other(rng, len(everything), position[key])]
                else:
                    donor = following[int(rng.integers(len(following)))]
                donors[key][split] = donor
    return donors


def _draw_other(rng, count: int, excluded: int) -> int:
    drawn = int(rng.integers(count - 1))
    return drawn + 1 if drawn >= excluded else drawn


def output_paths(out_root: str, subset: str, label: int, stem: str) -> dict:
    """Where the views of one image go.

    Args:
        out_root (str): Output root.
        subset (str): ``'train'`` or ``'val'``.
        label (int): IN-9 label.
        stem (str): File stem, e.g. ``n02085620_10074``.

    Returns:
        dict[str, str]: ``{view: path}`` for the views of the subset.
    """
    views = TRAIN_VIEWS if subset == 'train' else VAL_VIEWS
    paths = {}
    for view in views:
        if view == 'fg_mask':
            extension = '.png' if subset == 'train' else '.npy'
        else:
            extension = '.JPEG'
        paths[view] = osp.join(
            out_root, view, subset, CLASS_FOLDERS[label], stem + extension
        )
    return paths


def write_views(task: dict) -> dict:
    """Writes every view of one kept image (the write pass's worker).

    Args:
        task (dict): ``key``, ``image_path``, ``box``, ``mask_path``,
            ``outputs`` (``{view: path}``) and ``donors`` (``{mixed view:
            (donor image path, donor box)}``).

    Returns:
        dict: ``key`` and ``outcome``: ``'skipped'`` when every output
        already existed and decoded, ``'written'``, or ``'failed'`` with
        ``path`` and ``error``.
    """
    outputs = task['outputs']
    if all(_decodes(path) for path in outputs.values()):
        return {'key': task['key'], 'outcome': 'skipped'}
    try:
        crop = resize_and_center_crop(read_image(task['image_path']))
        mask = cv2.imread(task['mask_path'], cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise ValueError(f'cached mask {task["mask_path"]} cannot be decoded')
        mask = (mask != 0).astype(np.uint8)
        views = {
            'original': crop,
            'only_bg_t': fill_box_with_background_tiles(crop, task['box']),
            'only_fg': only_fg_image(crop, mask),
        }
        for split, (donor_path, donor_box) in task['donors'].items():
            donor = resize_and_center_crop(read_image(donor_path))
            background = fill_box_with_background_tiles(donor, donor_box)
            views[split] = hard_paste(crop, mask, background)
    except ValueError as error:
        return {
            'key': task['key'],
            'outcome': 'failed',
            'path': task['image_path'],
            'error': str(error),
        }
    for view, path in outputs.items():
        if view != 'fg_mask':
            _write_image(path, views[view])
        elif path.endswith('.npy'):
            _write_npy(path, mask)
        else:
            _write_image(path, mask * 255)
    return {'key': task['key'], 'outcome': 'written'}


def _init_worker() -> None:
    # One process per core already; OpenCV's own threads would oversubscribe.
    cv2.setNumThreads(1)


def run_parallel(
    worker: Callable[[dict], dict],
    tasks: Sequence[dict],
    workers: int,
    show_progress: bool,
) -> Iterable[dict]:
    """Yields ``worker(task)`` for every task, in completion order.

    Args:
        worker (Callable): A module-level function (picklable).
        tasks (Sequence[dict]): Its inputs.
        workers (int): Processes; 1 runs in this process.
        show_progress (bool): Print a progress bar with ETA.

    Yields:
        dict: The results.
    """
    progress = ProgressBar(len(tasks)) if show_progress and tasks else None
    if workers == 1:
        _init_worker()
        results = map(worker, tasks)
        pool = None
    else:
        # Forked children can deadlock in OpenCV/OpenMP thread pools the
        # parent has already started (seen under pytest); spawn starts clean.
        context = multiprocessing.get_context('spawn')
        pool = context.Pool(workers, initializer=_init_worker)
        chunk = max(1, min(32, len(tasks) // (workers * 8)))
        results = pool.imap_unordered(worker, tasks, chunksize=chunk)
    try:
        for result in results:
            if progress:
                progress.update()
            yield result
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if progress:
        print()


def _read_scan_log(path: str) -> dict[str, dict]:
    """Decided images of an earlier run; a torn last line is dropped."""
    if not osp.isfile(path):
        return {}
    decided = {}
    with open(path, encoding='utf-8') as file:
        for line in file:
            if not line.endswith('\n'):
                break
            record = json.loads(line)
            decided[record['key']] = record
    return decided


def _prepare_out_root(out_root: str, settings: dict, overwrite: bool) -> dict:
    """Checks OUT_ROOT and returns the state of an earlier run (or a new one)."""
    if osp.exists(out_root) and not osp.isdir(out_root):
        raise NotADirectoryError(f'{out_root} exists and is not a directory')
    state_path = osp.join(out_root, STATE_FILE)
    if osp.isdir(out_root) and os.listdir(out_root):
        if overwrite:
            for entry in _OWNED_ENTRIES:
                path = osp.join(out_root, entry)
                if osp.isdir(path):
                    shutil.rmtree(path)
                elif osp.exists(path):
                    os.remove(path)
        elif not osp.isfile(state_path):
            raise FileExistsError(
                f'{out_root} is not empty and holds no {STATE_FILE}, so it is '
                'not the output of an earlier prepare_in9 run; choose an '
                'empty or new folder, or pass --overwrite to replace its '
                'prepare_in9 folders'
            )
    if osp.isfile(state_path):
        with open(state_path, encoding='utf-8') as file:
            state = json.load(file)
        if state.get('format') != FORMAT or state.get('synsets') != settings['synsets']:
            raise FileExistsError(
                f'{state_path} was written by a run with another synset order '
                'or is not a prepare_in9 state; pass --overwrite or choose '
                'another output folder'
            )
        return state
    state = {'format': FORMAT, 'synsets': settings['synsets'], 'selection': None}
    os.makedirs(out_root, exist_ok=True)
    _write_atomically(state_path, json.dumps(state, indent=2).encode())
    return state


def prepare_in9(
    imagenet_root: str,
    bbox_root: str,
    out_root: str,
    synsets_file: str | None = None,
    balanced: bool = False,
    per_class: int = IN9_TRAIN_PER_CLASS,
    val_per_class: int = 50,
    workers: int | None = None,
    seed: int = 0,
    overwrite: bool = False,
    show_progress: bool = True,
) -> dict:
    """Builds IN-9 training and validation folders from ImageNet.

    Running it again on the same ``out_root`` resumes: decided images are
    not scanned again and images whose outputs all exist and decode are
    not written again.

    Args:
        imagenet_root (str): ImageNet train folder, ``<wnid>/<stem>.JPEG``.
        bbox_root (str): Pascal-VOC XMLs, ``<wnid>/<stem>.xml`` or flat.
        out_root (str): Output root; created if missing.
        synsets_file (str, optional): The 1000 synsets in class order
            (``LOC_synset_mapping.txt``); None takes the sorted synset
            folders of ``imagenet_root``, which must number 1000.
        balanced (bool): Keep exactly ``per_class`` training images per
            class instead of every kept image.
        per_class (int): Training images per class with ``balanced``.
        val_per_class (int): Validation images per class, drawn from the
            kept images and left out of training (0 or at least 2).
        workers (int, optional): Processes; None uses every core.
        seed (int): Seed of the subset and donor draws.
        overwrite (bool): Replace the prepare_in9 folders of a non-empty
            ``out_root`` that is not an earlier run's output, or one of
            another synset order or selection.
        show_progress (bool): Print progress bars with ETA.

    Returns:
        dict: The report also saved as ``prepare_in9_report.json``.

    Raises:
        ValueError: For a bad synset order, too few kept images in a class
            (naming it) or a selection differing from the earlier run's.
        FileExistsError: For a non-empty ``out_root`` that is not a
            prepare_in9 output, unless ``overwrite``.
    """
    start = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    if synsets_file is None:
        synsets = synset_order_from_folders(imagenet_root)
    else:
        synsets = read_synset_order(synsets_file)
    synset_labels = in9_synset_labels(synsets)
    synsets_digest = hashlib.sha1(' '.join(synsets).encode()).hexdigest()
    selection = {
        'seed': seed,
        'per_class': per_class if balanced else None,
        'val_per_class': val_per_class,
    }
    state = _prepare_out_root(out_root, {'synsets': synsets_digest}, overwrite)
    if state['selection'] not in (None, selection):
        raise ValueError(
            f'{out_root} was written with the selection {state["selection"]}, '
            f'not {selection}; pass --overwrite or choose another output folder'
        )

    candidates, missing_synsets = list_candidates(
        imagenet_root, bbox_root, synset_labels
    )
    by_key = {candidate['key']: candidate for candidate in candidates}
    cache = osp.join(out_root, CACHE_DIR)
    log_path = osp.join(cache, SCAN_LOG)

    def mask_path(key: str) -> str:
        return osp.join(cache, 'masks', key + '.png')

    decided = {
        key: record
        for key, record in _read_scan_log(log_path).items()
        if key in by_key and (record['outcome'] != 'kept' or _decodes(mask_path(key)))
    }
    scan_tasks = [
        dict(
            key=candidate['key'],
            image_path=candidate['image_path'],
            xml_path=candidate['xml_path'],
            mask_path=mask_path(candidate['key']),
        )
        for candidate in candidates
        if candidate['key'] not in decided
    ]
    failed = []
    os.makedirs(cache, exist_ok=True)
    scan_start = time.perf_counter()
    with open(log_path, 'a', encoding='utf-8') as log:
        for result in run_parallel(scan_image, scan_tasks, workers, show_progress):
            if result['outcome'] == 'failed':
                failed.append({'path': result['path'], 'error': result['error']})
                continue
            decided[result['key']] = result
            log.write(json.dumps(result) + '\n')
            log.flush()
    scan_seconds = time.perf_counter() - scan_start

    kept = {}
    for key, record in decided.items():
        if record['outcome'] == 'kept':
            kept.setdefault(by_key[key]['label'], []).append(key)
    train, val = assign_subsets(kept, val_per_class, selection['per_class'], seed)
    if state['selection'] is None:
        state['selection'] = selection
        _write_atomically(
            osp.join(out_root, STATE_FILE), json.dumps(state, indent=2).encode()
        )

    write_tasks = []
    for subset, keys_by_label, stream, splits in (
        ('train', train, _STREAM_TRAIN_DONORS, ('mixed_rand',)),
        ('val', val, _STREAM_VAL_DONORS, ('mixed_same', 'mixed_rand', 'mixed_next')),
    ):
        if not any(keys_by_label.values()):
            continue
        donors = draw_donors(
            keys_by_label, splits, np.random.default_rng([seed, stream])
        )
        for label, keys in keys_by_label.items():
            for key in keys:
                candidate = by_key[key]
                write_tasks.append(
                    dict(
                        key=key,
                        image_path=candidate['image_path'],
                        box=decided[key]['box'],
                        mask_path=mask_path(key),
                        outputs=output_paths(
                            out_root, subset, label, candidate['stem']
                        ),
                        donors={
                            split: (by_key[donor]['image_path'], decided[donor]['box'])
                            for split, donor in donors[key].items()
                        },
                    )
                )
    write_start = time.perf_counter()
    written = Counter()
    for result in run_parallel(write_views, write_tasks, workers, show_progress):
        written[result['outcome']] += 1
        if result['outcome'] == 'failed':
            failed.append({'path': result['path'], 'error': result['error']})
    write_seconds = time.perf_counter() - write_start

    rejected = Counter(
        record['rule'] for record in decided.values() if record['outcome'] == 'rejected'
    )
    report = {
        'format': FORMAT,
        'imagenet_root': imagenet_root,
        'bbox_root': bbox_root,
        'selection': selection,
        'rules': {
            'order': list(RULES),
            'resize_short_side': RESIZE_SHORT_SIDE,
            'crop_size': CROP_SIZE,
            'min_box_kept': MIN_BOX_KEPT,
            'max_box_coverage': MAX_BOX_COVERAGE,
            'min_mask_fraction': MIN_MASK_FRACTION,
            'grabcut_iterations': GRABCUT_ITERATIONS,
        },
        'synsets_mapped': len(synset_labels),
        'missing_synset_folders': missing_synsets,
        'candidates': len(candidates),
        'kept': sum(len(keys) for keys in kept.values()),
        'rejected': {rule: rejected[rule] for rule in RULES},
        'failed': failed,
        'no_annotation': sorted(
            by_key[key]['image_path']
            for key, record in decided.items()
            if record.get('rule') == 'no_annotation'
        ),
        'classes': {
            folder: {
                'kept': len(kept.get(label, ())),
                'train': len(train[label]),
                'val': len(val[label]),
            }
            for label, folder in enumerate(CLASS_FOLDERS)
        },
        'scanned_now': len(scan_tasks),
        'written_now': written['written'],
        'skipped_existing': written['skipped'],
        'workers': workers,
        'scan_seconds': round(scan_seconds, 3),
        'write_seconds': round(write_seconds, 3),
        'seconds': round(time.perf_counter() - start, 3),
        'output_bytes': _folder_bytes(out_root, dict.fromkeys(TRAIN_VIEWS + VAL_VIEWS)),
    }
    _write_atomically(
        osp.join(out_root, REPORT_FILE), json.dumps(report, indent=1).encode()
    )
    return report


def _folder_bytes(root: str, folders: Iterable[str]) -> int:
    return sum(
        osp.getsize(osp.join(directory, name))
        for folder in folders
        for directory, _, names in os.walk(osp.join(root, folder))
        for name in names
    )


def format_report_table(report: dict) -> str:
    """Renders the counts of a report as a Markdown table.

    Args:
        report (dict): As returned by :func:`prepare_in9`.

    Returns:
        str: One row per outcome (kept, each rule, failed), then one row per
        class with its training and validation images.
    """
    lines = ['| outcome | images |', '|---|---|']
    lines.append(f'| kept | {report["kept"]} |')
    lines += [
        f'| rejected: {rule} | {count} |' for rule, count in report['rejected'].items()
    ]
    lines.append(f'| failed (unreadable file) | {len(report["failed"])} |')
    lines += ['', '| class | kept | train | val |', '|---|---|---|---|']
    lines += [
        f'| {folder} | {counts["kept"]} | {counts["train"]} | {counts["val"]} |'
        for folder, counts in report['classes'].items()
    ]
    return '\n'.join(lines)
