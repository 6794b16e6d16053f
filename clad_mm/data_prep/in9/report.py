"""The summary report of an IN-9 build: what was kept, rejected and written.

Saved as ``OUT_ROOT/prepare_in9_report.json`` at the end of every run and
printed by ``tools/data/prepare_in9.py`` as a Markdown table.
"""

import os
import os.path as osp
from collections import Counter
from collections.abc import Iterable

from clad_mm.datasets.categories import IN9_CLASS_FOLDERS
from clad_mm.utils.fileio import write_json_atomically

from .selection import (
    CROP_SIZE,
    GRABCUT_ITERATIONS,
    MAX_BOX_COVERAGE,
    MIN_BOX_KEPT,
    MIN_MASK_FRACTION,
    RESIZE_SHORT_SIDE,
    RULES,
)

REPORT_FILE = 'prepare_in9_report.json'


def build_report(
    *,
    out_root: str,
    inputs: dict,
    selection: dict,
    decided: dict[str, dict],
    candidates: dict[str, dict],
    train: dict[int, list[str]],
    val: dict[int, list[str]],
    failed: list[dict],
    run: dict,
    output_folders: Iterable[str],
) -> dict:
    """Assembles the report of one run.

    Args:
        out_root (str): Output root; the size of ``output_folders`` in it is
            reported.
        inputs (dict): ``imagenet_root``, ``bbox_root``, ``synsets_mapped``
            (number of mapped synsets) and ``missing_synset_folders``.
        selection (dict): The run's selection.
        decided (dict[str, dict]): Scan result of every decided image.
        candidates (dict[str, dict]): Every candidate by key.
        train (dict[int, list[str]]): Training keys by label.
        val (dict[int, list[str]]): Validation keys by label.
        failed (list[dict]): ``path`` and ``error`` of every unreadable file.
        run (dict): ``format``, ``scanned_now``, ``written_now``,
            ``skipped_existing``, ``workers``, ``scan_seconds``,
            ``write_seconds`` and ``seconds`` of this run.
        output_folders (Iterable[str]): The view folders of the build.

    Returns:
        dict: The report (see ``prepare_in9``).
    """
    kept = Counter(
        candidates[key]['label']
        for key, record in decided.items()
        if record['outcome'] == 'kept'
    )
    rejected = Counter(
        record['rule'] for record in decided.values() if record['outcome'] == 'rejected'
    )
    return {
        'format': run['format'],
        'imagenet_root': inputs['imagenet_root'],
        'bbox_root': inputs['bbox_root'],
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
        'synsets_mapped': inputs['synsets_mapped'],
        'missing_synset_folders': inputs['missing_synset_folders'],
        'candidates': len(candidates),
        'kept': sum(kept.values()),
        'rejected': {rule: rejected[rule] for rule in RULES},
        'failed': failed,
        'no_annotation': sorted(
            candidates[key]['image_path']
            for key, record in decided.items()
            if record.get('rule') == 'no_annotation'
        ),
        'classes': {
            folder: {
                'kept': kept[label],
                'train': len(train[label]),
                'val': len(val[label]),
            }
            for label, folder in enumerate(IN9_CLASS_FOLDERS)
        },
        'scanned_now': run['scanned_now'],
        'written_now': run['written_now'],
        'skipped_existing': run['skipped_existing'],
        'workers': run['workers'],
        'scan_seconds': round(run['scan_seconds'], 3),
        'write_seconds': round(run['write_seconds'], 3),
        'seconds': round(run['seconds'], 3),
        'output_bytes': _folder_bytes(out_root, output_folders),
    }


def write_report(out_root: str, report: dict) -> None:
    """Saves a report as ``OUT_ROOT/prepare_in9_report.json``.

    Args:
        out_root (str): Output root.
        report (dict): From :func:`build_report`.
    """
    write_json_atomically(osp.join(out_root, REPORT_FILE), report, indent=1)


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
        report (dict): As returned by :func:`~clad_mm.data_prep.in9.build.prepare_in9`.

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
