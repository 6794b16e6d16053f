"""Comparison of Background Challenge results across models (CLAD Table 2).

The texture-bias splits (:data:`TEXTURE_SPLITS`) that the same result files
may hold are left to :mod:`clad_mm.analysis.shape_bias` (Table 7).
"""

import csv
import io
import json
import os.path as osp
from collections.abc import Sequence

from clad_mm.datasets.folder_layout import TEXTURE_SPLITS, order_splits
from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.fileio import write_atomically

METRIC_PREFIX = 'bg_challenge/'
# The columns of CLAD's Table 2; '↓' marks columns where lower is better.
PAPER_COLUMNS = (
    ('original', 'ORIGINAL'),
    ('only_fg', 'ONLY-FG'),
    ('mixed_rand', 'MIXED-RAND'),
    ('mixed_same', 'MIXED-SAME'),
    ('only_bg_t', 'ONLY-BG-T ↓'),
    ('bg_gap', 'BG-GAP ↓'),
)


def load_result(path: str, name: str | None = None) -> dict:
    """Reads one ``bg_challenge.json`` written by ``tools/test.py``.

    Args:
        path (str): The JSON file.
        name (str, optional): The model's name in the report. Defaults to the
            stem of the config recorded in the file, else the file's folder.

    Returns:
        dict: ``{'name': str, 'path': str, 'metrics': {split or 'bg_gap': value}}``.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'result file {path!r} does not exist')
    with open(path) as f:
        try:
            content = json.load(f)
        except json.JSONDecodeError as error:
            raise UserError(f'{path!r} is not valid JSON: {error}') from error
    metrics = {
        key[len(METRIC_PREFIX) :]: float(value)
        for key, value in content.items()
        if key.startswith(METRIC_PREFIX)
    }
    if not metrics:
        raise UserError(
            f'{path!r} has no "{METRIC_PREFIX}<split>" accuracies; expected the '
            'bg_challenge.json that tools/test.py writes'
        )
    if name is None:
        config = content.get('config')
        name = (
            osp.splitext(osp.basename(config))[0]
            if config
            else osp.basename(osp.dirname(osp.abspath(path)))
        )
    return dict(name=name, path=path, metrics=metrics)


def _present_keys(results: Sequence[dict]) -> set[str]:
    return set().union(*(result['metrics'] for result in results))


def has_background_results(results: Sequence[dict]) -> bool:
    """Whether any result holds more than ORIGINAL and texture splits.

    Args:
        results (Sequence[dict]): Results as from :func:`load_result`.

    Returns:
        bool: True if a Background Challenge table has something to show
        beyond the ORIGINAL column of the texture / shape-bias table.
    """
    return bool(_present_keys(results) - {'original'} - set(TEXTURE_SPLITS))


def comparison_columns(results: Sequence[dict], all_splits: bool = False) -> list:
    """The ``(key, title)`` columns of the Background Challenge report.

    Only columns that at least one result holds; texture splits never (see
    :func:`clad_mm.analysis.shape_bias.shape_bias_columns`).

    Args:
        results (Sequence[dict]): Results as from :func:`load_result`.
        all_splits (bool): Every split any result has, in the Background
            Challenge order then other names alphabetically, then BG-GAP;
            otherwise the paper's Table 2 columns (every split when the
            results hold none of those).
    """
    present = _present_keys(results)
    paper_columns = [(key, title) for key, title in PAPER_COLUMNS if key in present]
    if paper_columns and not all_splits:
        return paper_columns
    splits = [
        split
        for split in order_splits(present - {'bg_gap'})
        if split not in TEXTURE_SPLITS
    ]
    columns = [(split, split.upper().replace('_', '-')) for split in splits]
    if 'bg_gap' in present:
        columns.append(('bg_gap', 'BG-GAP ↓'))
    return columns


def format_comparison_markdown(results: Sequence[dict], columns: Sequence) -> str:
    """One row per model, one column per split; '–' where a split is absent."""
    lines = [
        '| model | ' + ' | '.join(title for _, title in columns) + ' |',
        '|---' * (len(columns) + 1) + '|',
    ]
    for result in results:
        cells = [
            f'{result["metrics"][key]:.2f}' if key in result['metrics'] else '–'
            for key, _ in columns
        ]
        lines.append(f'| {result["name"]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_comparison_csv(results: Sequence[dict], columns: Sequence, path: str) -> str:
    """Writes the report as CSV (empty cells where a split is absent)."""
    text = io.StringIO(newline='')
    writer = csv.writer(text)
    writer.writerow(['model'] + [key for key, _ in columns])
    for result in results:
        writer.writerow(
            [result['name']] + [result['metrics'].get(key, '') for key, _ in columns]
        )
    write_atomically(path, text.getvalue())
    return path
