"""ImageNet-Sketch restricted to the IN-9 classes: S-CLAD's IN9-SKETCH split.

ImageNet-Sketch (Wang et al., "Learning Robust Global Representations by
Penalizing Local Predictive Power", NeurIPS 2019) holds black-and-white
sketches of the 1000 ImageNet-1k classes, about 50 per class, as
``sketch/<wnid>/<name>.JPEG``; the sorted WordNet ids give the ImageNet class
indices. A sketch has the object's shape and no texture, so CLAD (BMVC 2022,
Table 7) measures S-CLAD's texture debiasing by the accuracy on the sketches
of the 370 ImageNet classes mapped to IN-9 (the map of the Background
Challenge's evaluation code, :mod:`clad_mm.datasets.categories`); the 630
other classes are skipped.

Each kept sketch is brought to the IN-9 test images' geometry the way those
were made: the short side resized to 256 (bilinear), then a centre crop of
224, by MMPretrain's ``ResizeEdge`` and ``CenterCrop`` (for another
``size``, the short side becomes ``round(size · 256 / 224)``). The split is
written beside the other test splits, so that ``BGChallengeTestDataset``
reads it as ``sketch``::

    TEST_ROOT/sketch/val/<IN-9 class folder>/<wnid>_<name>.JPEG   JPEG q95
    TEST_ROOT/sketch/prepare_in9_sketch_state.json    settings of the split
    TEST_ROOT/sketch/prepare_in9_sketch_report.json   counts per class, failures

A second run resumes: finished images are kept, and a run with other
settings (size, synset order) is refused instead of mixing the two.
"""

import hashlib
import json
import os
import os.path as osp
import time
from collections import Counter

import numpy as np
from mmpretrain.datasets.transforms import CenterCrop, ResizeEdge

from clad_mm.datasets.categories import IN9_CLASS_FOLDERS
from clad_mm.datasets.folder_layout import IMAGE_EXTENSIONS, list_stems, require_dir
from clad_mm.utils.errors import OutputExistsError, UserError
from clad_mm.utils.fileio import (
    read_image,
    remove_stale_temporaries,
    write_image_atomically,
    write_json_atomically,
)

from ..written_files import refuse_unlisted_files
from .candidates import in9_synset_labels, read_synset_order, synset_order_from_folders
from .parallel import run_parallel
from .selection import CROP_SIZE, RESIZE_SHORT_SIDE

SPLIT = 'sketch'
SUBSET = 'val'
STATE_FILE = 'prepare_in9_sketch_state.json'
REPORT_FILE = 'prepare_in9_sketch_report.json'
FORMAT = 'prepare_in9_sketch'


def resize_and_center_crop(image: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Resize the short side to ``size · 256 / 224``, then centre-crop ``size``.

    Args:
        image (np.ndarray): H x W x C image.
        size (int): Side of the square output. Defaults to 224, with the
            short side resized to 256 as for the IN-9 test images.

    Returns:
        np.ndarray: The ``size`` x ``size`` crop.
    """
    short_side = round(size * RESIZE_SHORT_SIDE / CROP_SIZE)
    resized = ResizeEdge(scale=short_side, edge='short')(dict(img=image))
    return CenterCrop(crop_size=size)(resized)['img']


def sketch_synset_labels(
    sketch_dir: str, synsets_file: str | None = None
) -> tuple[dict[str, int], list[str]]:
    """IN-9 label of every mapped synset folder of ImageNet-Sketch.

    Args:
        sketch_dir (str): The ``sketch/`` folder with one ``<wnid>/`` folder
            per class.
        synsets_file (str, optional): The 1000 synsets in class order
            (``LOC_synset_mapping.txt``); None takes the sorted folders,
            which must then be exactly 1000 WordNet ids.

    Returns:
        tuple[dict[str, int], list[str]]: ``{wnid: IN-9 label}`` of the
        mapped synsets that have a folder, and the mapped synsets without a
        folder (only possible with ``synsets_file``).

    Raises:
        FileNotFoundError: If ``sketch_dir`` is not a folder.
        ValueError: Naming the folders that are not known synsets, or giving
            the folder count when it is not 1000 without ``synsets_file``.
    """
    require_dir(sketch_dir, 'the ImageNet-Sketch sketch/ folder with <wnid>/ folders')
    with os.scandir(sketch_dir) as entries:
        folders = {
            entry.name
            for entry in entries
            if entry.is_dir() and not entry.name.startswith('.')
        }
    if synsets_file is None:
        synsets = synset_order_from_folders(sketch_dir)
        unknown = sorted(folders - set(synsets))
        known_by = 'WordNet ids (n and 8 digits)'
    else:
        synsets = read_synset_order(synsets_file)
        unknown = sorted(folders - set(synsets))
        known_by = f'synsets listed in {synsets_file}'
    if unknown:
        raise UserError(
            f'{sketch_dir} holds {len(unknown)} folders that are not '
            f'{known_by}: {unknown[:5]}; expected ImageNet-Sketch '
            'sketch/<wnid>/<name>.JPEG'
        )
    labels = in9_synset_labels(synsets)
    present = {wnid: label for wnid, label in labels.items() if wnid in folders}
    return present, sorted(set(labels) - folders)


def sketch_tasks(
    sketch_dir: str, test_root: str, synset_labels: dict[str, int], size: int
) -> list[dict]:
    """One task per sketch of a mapped synset, synset by synset.

    Args:
        sketch_dir (str): The ``sketch/`` folder.
        test_root (str): Test root receiving ``sketch/val/``.
        synset_labels (dict[str, int]): ``{wnid: IN-9 label}``.
        size (int): Output side.

    Returns:
        list[dict]: ``source``, ``output``, ``size`` and ``class_folder``.
    """
    tasks = []
    for wnid in sorted(synset_labels):
        folder = IN9_CLASS_FOLDERS[synset_labels[wnid]]
        files = list_stems(osp.join(sketch_dir, wnid), IMAGE_EXTENSIONS)
        for stem in sorted(files):
            tasks.append(
                dict(
                    source=osp.join(sketch_dir, wnid, files[stem]),
                    output=osp.join(
                        test_root, SPLIT, SUBSET, folder, f'{wnid}_{stem}.JPEG'
                    ),
                    size=size,
                    class_folder=folder,
                )
            )
    return tasks


def write_sketch(task: dict) -> dict:
    """Resizes, crops and writes one sketch (the worker of the build).

    Args:
        task (dict): As from :func:`sketch_tasks`.

    Returns:
        dict: ``outcome`` (``'written'`` or ``'failed'`` with ``path`` and
        ``error``) and ``class_folder``.
    """
    try:
        image = resize_and_center_crop(read_image(task['source']), task['size'])
    except ValueError as error:
        return dict(
            outcome='failed',
            class_folder=task['class_folder'],
            path=task['source'],
            error=str(error),
        )
    write_image_atomically(task['output'], image)
    return dict(outcome='written', class_folder=task['class_folder'])


def _check_split_folder(split_dir: str, state: dict) -> None:
    """Refuses a folder holding other files or another run's settings."""
    state_path = osp.join(split_dir, STATE_FILE)
    if osp.isfile(state_path):
        with open(state_path, encoding='utf-8') as file:
            earlier = json.load(file)
        if earlier != state:
            differing = sorted(
                key
                for key in state.keys() | earlier.keys()
                if state.get(key) != earlier.get(key)
            )
            raise UserError(
                f'{split_dir} was written with other settings '
                + ', '.join(
                    f'{key}={earlier.get(key)!r} (now {state.get(key)!r})'
                    for key in differing
                )
                + f'; remove {split_dir} or use another TEST_ROOT'
            )
    elif osp.isdir(split_dir) and os.listdir(split_dir):
        raise OutputExistsError(
            f'{split_dir} is not empty and holds no {STATE_FILE}, so it was not '
            'written by prepare_in9_sketch; move it away or use another TEST_ROOT'
        )


def prepare_in9_sketch(
    sketch_dir: str,
    test_root: str,
    synsets_file: str | None = None,
    size: int = CROP_SIZE,
    workers: int = 1,
    show_progress: bool = True,
) -> dict:
    """Writes the IN9-SKETCH test split from ImageNet-Sketch.

    Args:
        sketch_dir (str): The ``sketch/`` folder of ImageNet-Sketch.
        test_root (str): Test root that receives ``sketch/val/<class>/``
            (e.g. ``data/bg_challenge`` beside ``original/``).
        synsets_file (str, optional): The 1000 synsets in class order; None
            takes the sorted folders of ``sketch_dir``.
        size (int): Side of the output images. Defaults to 224.
        workers (int): Processes. Defaults to 1.
        show_progress (bool): Print a progress bar with ETA.

    Returns:
        dict: The report, also saved as ``sketch/prepare_in9_sketch_report.json``.

    Raises:
        FileNotFoundError: If ``sketch_dir`` is missing.
        OutputExistsError: If ``TEST_ROOT/sketch`` holds files of another
            tool (naming them).
        ValueError: For unknown synset folders, a wrong folder count, a bad
            ``size`` or settings differing from an earlier run's.
    """
    if size < 1:
        raise UserError(f'size must be a positive number of pixels, got {size}')
    start = time.perf_counter()
    synset_labels, missing = sketch_synset_labels(sketch_dir, synsets_file)
    mapping = ' '.join(
        f'{wnid}:{synset_labels[wnid]}' for wnid in sorted(synset_labels)
    )
    state = dict(
        format=FORMAT, size=size, synsets=hashlib.sha1(mapping.encode()).hexdigest()
    )
    split_dir = osp.join(test_root, SPLIT)
    _check_split_folder(split_dir, state)
    tasks = sketch_tasks(sketch_dir, test_root, synset_labels, size)
    # A file of someone else's in the folder would be read as a sample.
    refuse_unlisted_files(
        split_dir,
        ['.'],
        {
            STATE_FILE,
            REPORT_FILE,
            *(
                osp.relpath(task['output'], split_dir).replace(os.sep, '/')
                for task in tasks
            ),
        },
        'prepare_in9_sketch',
        f'they are not sketches of {sketch_dir}',
    )
    write_json_atomically(osp.join(split_dir, STATE_FILE), state, indent=2)
    # A killed run leaves the dot temporaries of its unfinished images.
    remove_stale_temporaries(split_dir)

    pending = [task for task in tasks if not osp.isfile(task['output'])]
    outcomes = Counter()
    failed = []
    for result in run_parallel(write_sketch, pending, workers, show_progress):
        outcomes[(result['class_folder'], result['outcome'])] += 1
        if result['outcome'] == 'failed':
            failed.append(dict(path=result['path'], error=result['error']))
    images = Counter(task['class_folder'] for task in tasks)
    synsets = Counter(IN9_CLASS_FOLDERS[label] for label in synset_labels.values())
    classes = {
        folder: dict(
            synsets=synsets[folder],
            images=images[folder],
            written_now=outcomes[(folder, 'written')],
            failed=outcomes[(folder, 'failed')],
        )
        for folder in IN9_CLASS_FOLDERS
    }
    report = dict(
        format=FORMAT,
        sketch_dir=sketch_dir,
        test_root=test_root,
        size=size,
        synsets_mapped=len(synset_labels),
        missing_synset_folders=missing,
        images=len(tasks),
        written_now=sum(outcomes[(f, 'written')] for f in IN9_CLASS_FOLDERS),
        already_complete=len(tasks) - len(pending),
        failed=failed,
        classes=classes,
        workers=workers,
        seconds=round(time.perf_counter() - start, 3),
    )
    write_json_atomically(osp.join(split_dir, REPORT_FILE), report, indent=1)
    return report


def format_sketch_table(report: dict) -> str:
    """Renders the per-class counts of a report as a Markdown table.

    Args:
        report (dict): As returned by :func:`prepare_in9_sketch`.

    Returns:
        str: One row per IN-9 class and a total row.
    """
    lines = [
        '| class | synsets | images | written now | failed |',
        '|---|---|---|---|---|',
    ]
    for folder, counts in report['classes'].items():
        lines.append(
            f'| {folder} | {counts["synsets"]} | {counts["images"]} | '
            f'{counts["written_now"]} | {counts["failed"]} |'
        )
    lines.append(
        f'| total | {report["synsets_mapped"]} | {report["images"]} | '
        f'{report["written_now"]} | {len(report["failed"])} |'
    )
    return '\n'.join(lines)
