"""Comparison of test results across models: CLAD's Table 2, BGAugment's Table 1.

A result file is a ``bg_challenge.json`` (per-split accuracies, BG-GAP), a
``retrieval.json`` (MAP@R, P@1, R-Precision on the clean and the
background-replaced test set) or a ``group.json`` (overall, worst-group,
unweighted and train-weighted mean accuracy, per group), all written by
``tools/test.py``; the
texture-bias splits (:data:`TEXTURE_SPLITS`) that the former may hold are
left to :mod:`clad_mm.analysis.shape_bias` (Table 7).
"""

import csv
import io
import json
import os.path as osp
import statistics
from collections.abc import Sequence

from clad_mm.analysis.shape_bias import TEXTURE_ONLY_SPLITS
from clad_mm.datasets.folder_layout import TEXTURE_SPLITS, order_splits
from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.fileio import write_atomically

METRIC_PREFIX = 'bg_challenge/'
RETRIEVAL_PREFIX = 'retrieval/'
GROUP_PREFIX = 'group/'
#: The metric prefix of each kind of result file.
RESULT_PREFIXES = {
    'bg_challenge': METRIC_PREFIX,
    'retrieval': RETRIEVAL_PREFIX,
    'group': GROUP_PREFIX,
}
#: Results where lower is better: the accuracy on the background alone
#: (ONLY-BG-T) or on the texture alone (ONLY-TEXTURE), and BG-GAP. The
#: tables mark them '↓', the plots "(lower is better)".
LOWER_IS_BETTER = frozenset({'only_bg_t', 'bg_gap', *TEXTURE_ONLY_SPLITS})


def result_title(key: str) -> str:
    """The upper-case title of a split or figure, e.g. ``'MIXED-RAND'``.

    Args:
        key (str): A split name or ``'bg_gap'``.

    Returns:
        str: ``key`` in capitals with hyphens for underscores.
    """
    return key.upper().replace('_', '-')


def _column(key: str) -> tuple[str, str]:
    return key, result_title(key) + (' ↓' if key in LOWER_IS_BETTER else '')


# The columns of CLAD's Table 2.
PAPER_COLUMNS = tuple(
    _column(key)
    for key in (
        'original',
        'only_fg',
        'mixed_rand',
        'mixed_same',
        'only_bg_t',
        'bg_gap',
    )
)
# The columns of BGAugment's Table 1 (MAP@R) and the other two figures the
# authors report, each on the clean and on the background-replaced test set.
RETRIEVAL_COLUMNS = (
    ('clean/MAP@R', 'MAP@R clean'),
    ('replaced/MAP@R', 'MAP@R replaced'),
    ('clean/P@1', 'P@1 clean'),
    ('replaced/P@1', 'P@1 replaced'),
    ('clean/R-Precision', 'R-Precision clean'),
    ('replaced/R-Precision', 'R-Precision replaced'),
)


def load_result(path: str, name: str | None = None) -> dict:
    """Reads one ``bg_challenge.json`` or ``retrieval.json`` of ``tools/test.py``.

    Args:
        path (str): The JSON file.
        name (str, optional): The model's name in the report. Defaults to the
            stem of the config recorded in the file, else the file's folder.

    Returns:
        dict: ``{'name': str, 'path': str, 'kind': 'bg_challenge' |
        'retrieval', 'metrics': {key: value}, 'named_by': 'caller' | 'config'
        | 'folder'}``; the keys are the splits (and ``'bg_gap'``), or the
        retrieval figures such as ``'clean/MAP@R'``, ``'replaced/MAP@R'`` and
        ``'replaced/MAP@R_std'`` (over background draws).
    """
    if not osp.isfile(path):
        raise MissingFileError(f'result file {path!r} does not exist')
    with open(path) as f:
        try:
            content = json.load(f)
        except json.JSONDecodeError as error:
            raise UserError(f'{path!r} is not valid JSON: {error}') from error
    found = [
        (
            kind,
            {
                k[len(prefix) :]: float(v)
                for k, v in content.items()
                if k.startswith(prefix)
            },
        )
        for kind, prefix in RESULT_PREFIXES.items()
    ]
    kind, metrics = next(((k, m) for k, m in found if m), (None, {}))
    if not metrics:
        raise UserError(
            f'{path!r} has no "{METRIC_PREFIX}<split>" accuracies, '
            f'"{RETRIEVAL_PREFIX}..." or "{GROUP_PREFIX}..." figures; expected the '
            'bg_challenge.json, retrieval.json or group.json that tools/test.py '
            'writes'
        )
    named_by = 'caller'
    if name is None:
        config = content.get('config')
        if config:
            name, named_by = osp.splitext(osp.basename(config))[0], 'config'
        else:
            name, named_by = osp.basename(osp.dirname(osp.abspath(path))), 'folder'
    return dict(name=name, path=path, kind=kind, metrics=metrics, named_by=named_by)


def average_runs(results: Sequence[dict]) -> list[dict]:
    """Merges the results that share a name (runs of one model, e.g. seeds).

    Args:
        results (Sequence[dict]): Results as from :func:`load_result`.

    Returns:
        list[dict]: One result per name, in order of first appearance. A name
        with one run is its result unchanged; a name with n > 1 runs has
        ``metrics`` = the mean over runs, ``std`` = the sample standard
        deviation (n − 1 in the denominator), ``runs`` = n, ``values`` = the
        runs' values and ``path`` = their files.

    Raises:
        UserError: If the runs of one name do not hold the same splits, or a
            result's name is only its folder's (a ``--out`` metrics file
            records no config): folders such as ``test/`` would merge
            different models.
    """
    groups: dict[str, list[dict]] = {}
    for result in results:
        if result.get('named_by') == 'folder':
            raise UserError(
                f'{result["path"]} records no config, so its name '
                f"{result['name']!r} is only its folder's; to average runs, name "
                'every result (--names, one per file) or use the bg_challenge.json '
                "of the test run's folder, which records its config"
            )
        groups.setdefault(result['name'], []).append(result)
    kinds = {result.get('kind') for result in results}
    if len(kinds) > 1:
        raise UserError(
            'cannot average Background Challenge and retrieval results together: '
            + ', '.join(f'{r["path"]} ({r.get("kind")})' for r in results)
        )
    averaged = []
    for name, runs in groups.items():
        if len(runs) == 1:
            averaged.append(runs[0])
            continue
        splits = set(runs[0]['metrics'])
        for run in runs[1:]:
            if set(run['metrics']) != splits:
                raise UserError(
                    f'the runs named {name!r} hold different splits: '
                    f'{runs[0]["path"]} has {sorted(splits)}, {run["path"]} has '
                    f'{sorted(run["metrics"])}'
                )
        values = {
            key: [run['metrics'][key] for run in runs] for key in runs[0]['metrics']
        }
        averaged.append(
            dict(
                name=name,
                path=[run['path'] for run in runs],
                kind=runs[0].get('kind'),
                runs=len(runs),
                metrics={key: statistics.fmean(v) for key, v in values.items()},
                std={key: statistics.stdev(v) for key, v in values.items()},
                values=values,
            )
        )
    return averaged


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
    columns = [_column(split) for split in splits]
    if 'bg_gap' in present:
        columns.append(_column('bg_gap'))
    return columns


# The named figures of group robustness; the per-group accuracies follow.
GROUP_SUMMARY_COLUMNS = (
    ('accuracy/overall', 'overall'),
    ('worst_group', 'worst group'),
    ('unweighted_group_mean', 'unweighted group mean'),
    ('train_weighted_mean', 'train-weighted mean'),
)


def group_columns(results: Sequence[dict]) -> list:
    """The ``(key, title)`` columns of the group-robustness report.

    The four named summary figures, then every group's accuracy
    (``group <i>``, by index), where any result holds them.

    Args:
        results (Sequence[dict]): Group results as from :func:`load_result`.
    """
    present = _present_keys(results)
    groups = sorted(
        int(key.rsplit('_', 1)[1])
        for key in present
        if key.startswith('accuracy/group_')
    )
    columns = [(key, title) for key, title in GROUP_SUMMARY_COLUMNS if key in present]
    return columns + [(f'accuracy/group_{g}', f'group {g}') for g in groups]


def retrieval_columns(results: Sequence[dict]) -> list:
    """The ``(key, title)`` columns of the retrieval report that a result holds.

    Args:
        results (Sequence[dict]): Retrieval results as from :func:`load_result`.
    """
    present = _present_keys(results)
    return [(key, title) for key, title in RETRIEVAL_COLUMNS if key in present]


def _cell(result: dict, key: str) -> str:
    if key not in result['metrics']:
        return '–'
    if 'std' in result:
        return f'{result["metrics"][key]:.2f} ± {result["std"][key]:.2f}'
    # A single retrieval run: the spread over its background draws.
    draw_std = result['metrics'].get(f'{key}_std')
    if draw_std is not None:
        return f'{result["metrics"][key]:.2f} ± {draw_std:.2f}'
    return f'{result["metrics"][key]:.2f}'


def format_comparison_markdown(results: Sequence[dict], columns: Sequence) -> str:
    """One row per model, one column per split; '–' where a split is absent.

    Averaged results (:func:`average_runs`) show ``mean ± std`` over runs and
    add a ``runs`` column; a single retrieval result shows ``mean ± std`` over
    its background draws where it has them.
    """
    with_runs = any('runs' in result for result in results)
    lines = [
        '| model | '
        + ('runs | ' if with_runs else '')
        + ' | '.join(title for _, title in columns)
        + ' |',
        '|---' * (len(columns) + 1 + with_runs) + '|',
    ]
    for result in results:
        cells = [_cell(result, key) for key, _ in columns]
        if with_runs:
            cells.insert(0, str(result.get('runs', 1)))
        lines.append(f'| {result["name"]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_comparison_csv(results: Sequence[dict], columns: Sequence, path: str) -> str:
    """Writes the report as CSV (empty cells where a split is absent).

    With averaged results (:func:`average_runs`) a ``runs`` column and a
    ``<split>_std`` column after each split are added.
    """
    with_runs = any('runs' in result for result in results)
    text = io.StringIO(newline='')
    writer = csv.writer(text)
    header = ['model'] + (['runs'] if with_runs else [])
    for key, _ in columns:
        header += [key, f'{key}_std'] if with_runs else [key]
    writer.writerow(header)
    for result in results:
        row = [result['name']] + ([result.get('runs', 1)] if with_runs else [])
        for key, _ in columns:
            row.append(result['metrics'].get(key, ''))
            if with_runs:
                row.append(result.get('std', {}).get(key, ''))
        writer.writerow(row)
    write_atomically(path, text.getvalue())
    return path
