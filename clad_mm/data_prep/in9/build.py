"""Rebuilding ImageNet-9 (IN-9) from ImageNet and its bounding boxes.

Follows the construction of the Background Challenge (Xiao et al., "Noise
or Signal: The Role of Image Backgrounds in Object Recognition", ICLR 2021),
whose training set CLAD (BMVC 2022) trains on. An ImageNet training image
of a synset mapped to an IN-9 class (:mod:`.candidates`) is kept by the
rules of :mod:`.selection` (one box, mostly inside the 224 px crop, not
filling it, and a GrabCut mask of at least 10 % of the box).

The build runs in two passes over a process pool, both resumable:

- *scan*: applies the rules to every candidate and caches the mask of each
  kept image in ``OUT_ROOT/.prepare_in9/`` with one line per decided image
  in ``scan.jsonl`` (:mod:`.resume_state`);
- *write*: once every image is decided, a seeded, deterministic draw over
  the sorted kept images picks the validation images (and, with
  ``balanced``, exactly ``per_class`` training images per class) and every
  view is written (the output tree is listed in :mod:`.writing`), with
  ``prepare_in9_state.json`` marking the folder as a prepare_in9 output and
  ``prepare_in9_report.json`` holding counts, rejections and errors
  (:mod:`.report`).

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
import os
import os.path as osp
import time
from collections import Counter

from .candidates import (
    in9_synset_labels,
    list_candidates,
    read_synset_order,
    synset_order_from_folders,
)
from .donors import draw_subset_donors
from .parallel import run_parallel
from .report import REPORT_FILE, build_report, write_report
from .resume_state import (
    FORMAT,
    cached_mask_path,
    prepare_out_root,
    read_scan_log,
    record_selection,
    scan_log_path,
    written_files,
)
from .selection import IN9_TRAIN_PER_CLASS, assign_subsets, scan_image
from .writing import TRAIN_VIEWS, VAL_VIEWS, decodes, output_paths, write_views


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
        overwrite (bool): Remove what an earlier run recorded in
            ``out_root``'s journal (a non-empty folder that is not an
            earlier run's output, or one of another synset order or
            selection) and build anew; other files stay.
        show_progress (bool): Print progress bars with ETA.

    Returns:
        dict: The report also saved as ``prepare_in9_report.json``.

    Raises:
        ValueError: For a bad synset order, too few kept images in a class
            (naming it) or a selection differing from the earlier run's.
        OutputExistsError: For a non-empty ``out_root`` that is not a
            prepare_in9 output, unless ``overwrite``; with ``overwrite``,
            for files prepare_in9 did not write in its folders.
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
    state = prepare_out_root(out_root, synsets_digest, selection, overwrite)

    candidates, missing_synsets = list_candidates(
        imagenet_root, bbox_root, synset_labels
    )
    by_key = {candidate['key']: candidate for candidate in candidates}
    log_path = scan_log_path(out_root)

    def mask_path(key: str) -> str:
        return cached_mask_path(out_root, key)

    decided = {
        key: record
        for key, record in read_scan_log(log_path).items()
        if key in by_key and (record['outcome'] != 'kept' or decodes(mask_path(key)))
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
    journal = written_files(out_root)
    # Recorded before the workers write them, so --overwrite can clean up
    # after a killed run too.
    journal.record(task['mask_path'] for task in scan_tasks)
    failed = []
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    scan_start = time.perf_counter()
    # direct-write: an append-only log; read_scan_log drops a torn last line.
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
    record_selection(out_root, state, selection)

    write_tasks = []
    for subset, keys_by_label in (('train', train), ('val', val)):
        if not any(keys_by_label.values()):
            continue
        donors = draw_subset_donors(keys_by_label, subset, seed)
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
    journal.record(path for task in write_tasks for path in task['outputs'].values())
    write_start = time.perf_counter()
    written = Counter()
    for result in run_parallel(write_views, write_tasks, workers, show_progress):
        written[result['outcome']] += 1
        if result['outcome'] == 'failed':
            failed.append({'path': result['path'], 'error': result['error']})
    write_seconds = time.perf_counter() - write_start

    report = build_report(
        out_root=out_root,
        inputs={
            'imagenet_root': imagenet_root,
            'bbox_root': bbox_root,
            'synsets_mapped': len(synset_labels),
            'missing_synset_folders': missing_synsets,
        },
        selection=selection,
        decided=decided,
        candidates=by_key,
        train=train,
        val=val,
        failed=failed,
        run={
            'format': FORMAT,
            'scanned_now': len(scan_tasks),
            'written_now': written['written'],
            'skipped_existing': written['skipped'],
            'workers': workers,
            'scan_seconds': scan_seconds,
            'write_seconds': write_seconds,
            'seconds': time.perf_counter() - start,
        },
        output_folders=dict.fromkeys(TRAIN_VIEWS + VAL_VIEWS),
    )
    journal.record([osp.join(out_root, REPORT_FILE)])
    write_report(out_root, report)
    return report
