"""Texture (shape) bias report across models: S-CLAD's Table 7.

CLAD (BMVC 2022, "A Contrastive Learning based Approach for Background
Debiasing") evaluates S-CLAD against texture bias by the top-1 accuracy on
ORIGINAL, STYLIZED-IN9 (IN-9 re-textured by AdaIN) and IN9-SKETCH (the IN-9
classes of ImageNet-Sketch): a shape-biased model keeps its accuracy when the
texture changes or disappears. The SynBG texture variant has the same kind of
splits without any pretrained weights: RANDOM-TEXTURE (the shape filled with
another class's texture, a cue conflict), OUTLINE (the shape without texture)
and ONLY-TEXTURE (the class's texture without the shape; a lower accuracy
there means less texture reliance).

Results are those :func:`clad_mm.analysis.comparison.load_result` reads
(``{'name', 'path', 'metrics': {split: accuracy}}``). The table has the
ORIGINAL column, one column per texture split that any result holds, and the
drop ``ORIGINAL − split`` of each; ``format_comparison_markdown`` and
``write_comparison_csv`` render it like the Background Challenge table.
"""

from collections.abc import Sequence

from clad_mm.datasets.folder_layout import TEXTURE_SPLITS

#: Column titles of the splits, as in the paper's Table 7 where it has them.
SPLIT_TITLES = {
    'original': 'ORIGINAL',
    'stylized': 'STYLIZED-IN9',
    'sketch': 'IN9-SKETCH',
    'random_texture': 'RANDOM-TEXTURE',
    'outline': 'OUTLINE',
    'only_texture': 'ONLY-TEXTURE',
}
#: Splits that keep only the texture cue: a lower accuracy is better there,
#: hence a larger drop from ORIGINAL.
TEXTURE_ONLY_SPLITS = ('only_texture',)
DROP_PREFIX = 'drop_'


def texture_splits_present(results: Sequence[dict]) -> list[str]:
    """The texture splits that any result holds, in :data:`TEXTURE_SPLITS` order.

    Args:
        results (Sequence[dict]): Results with a ``'metrics'`` dict each.

    Returns:
        list[str]: E.g. ``['stylized', 'sketch']``; empty without any.
    """
    present = set().union(*(result['metrics'] for result in results))
    return [split for split in TEXTURE_SPLITS if split in present]


def accuracy_drops(metrics: dict) -> dict:
    """Accuracy drop from ORIGINAL to every texture split of one model.

    Args:
        metrics (dict): ``{split: top-1 accuracy}`` of one model.

    Returns:
        dict: ``{'drop_<split>': original − accuracy}`` for each texture
        split present, in :data:`TEXTURE_SPLITS` order; empty without
        ``'original'``.
    """
    if 'original' not in metrics:
        return {}
    return {
        f'{DROP_PREFIX}{split}': metrics['original'] - metrics[split]
        for split in TEXTURE_SPLITS
        if split in metrics
    }


def shape_bias_columns(results: Sequence[dict]) -> list[tuple[str, str]]:
    """The ``(key, title)`` columns of the texture / shape-bias table.

    ORIGINAL (if any result has it), each texture split that any result
    has, then the drop from ORIGINAL to each of them. '↓' marks where lower
    is better (ONLY-TEXTURE, and the drops to the other splits), '↑' where
    higher is better (the drop to ONLY-TEXTURE).

    Args:
        results (Sequence[dict]): Results as from ``load_result``.

    Returns:
        list[tuple[str, str]]: The columns; empty when no result holds a
        texture split.
    """
    splits = texture_splits_present(results)
    if not splits:
        return []
    has_original = any('original' in result['metrics'] for result in results)
    columns = [('original', SPLIT_TITLES['original'])] if has_original else []
    for split in splits:
        arrow = ' ↓' if split in TEXTURE_ONLY_SPLITS else ''
        columns.append((split, SPLIT_TITLES[split] + arrow))
    if has_original:
        for split in splits:
            arrow = ' ↑' if split in TEXTURE_ONLY_SPLITS else ' ↓'
            title = f'ORIGINAL − {SPLIT_TITLES[split]}{arrow}'
            columns.append((f'{DROP_PREFIX}{split}', title))
    return columns


def shape_bias_records(results: Sequence[dict]) -> list[dict]:
    """The results restricted to the shape-bias table, with the drops added.

    Args:
        results (Sequence[dict]): Results as from ``load_result``.

    Returns:
        list[dict]: One ``{'name', 'path', 'metrics'}`` per result, whose
        ``metrics`` hold the values of :func:`shape_bias_columns` that the
        result has (absent splits stay absent), ready for
        ``format_comparison_markdown`` and ``write_comparison_csv``.
    """
    keys = [key for key, _ in shape_bias_columns(results)]
    records = []
    for result in results:
        values = {**result['metrics'], **accuracy_drops(result['metrics'])}
        records.append(
            dict(
                name=result['name'],
                path=result.get('path', ''),
                metrics={key: values[key] for key in keys if key in values},
            )
        )
    return records
