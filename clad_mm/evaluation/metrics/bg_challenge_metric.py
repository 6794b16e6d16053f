"""Per-split accuracy and BG-GAP of the Background Challenge."""

from collections.abc import Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from clad_mm.datasets.categories import IN9_CLASSES
from clad_mm.datasets.folder_layout import BG_GAP_SPLITS, order_splits
from clad_mm.evaluation.imagenet_to_in9 import in9_predictions
from clad_mm.utils.errors import UserError

#: ``label_mapping`` values of :class:`BGChallengeMetric`: the function from
#: a model's class scores to dataset labels, and the dataset classes it
#: produces.
LABEL_MAPPINGS = {'imagenet1k_to_in9': (in9_predictions, IN9_CLASSES)}


def split_accuracies(splits: Sequence[str], correct: Sequence[bool]) -> dict:
    """Top-1 accuracy (percent) of every split, counted over images.

    Args:
        splits (Sequence[str]): The split of each image.
        correct (Sequence[bool]): Whether each image was classified correctly.

    Returns:
        dict: ``{split: accuracy}``, the Background Challenge's splits first
        in paper order, then the texture splits, then any others
        alphabetically.
    """
    totals, hits = {}, {}
    for split, is_correct in zip(splits, correct, strict=True):
        totals[split] = totals.get(split, 0) + 1
        hits[split] = hits.get(split, 0) + int(bool(is_correct))
    return {
        split: 100.0 * hits[split] / totals[split] for split in order_splits(totals)
    }


def bg_gap(accuracies: dict) -> float | None:
    """BG-GAP = MIXED-SAME − MIXED-RAND accuracy, or None if either is absent.

    Args:
        accuracies (dict): ``{split: accuracy}`` as from
            :func:`split_accuracies`.
    """
    if all(split in accuracies for split in BG_GAP_SPLITS):
        return accuracies['mixed_same'] - accuracies['mixed_rand']
    return None


def format_split_table(metrics: dict, prefix: str = 'bg_challenge') -> str:
    """Renders per-split accuracies and BG-GAP as a Markdown table.

    Args:
        metrics (dict): Metric dict with keys ``'<prefix>/<split>'`` (and
            ``'<prefix>/bg_gap'``), as returned by ``Runner.test()``.
        prefix (str): The metric prefix. Defaults to ``'bg_challenge'``.

    Returns:
        str: The table, one row per split plus BG-GAP.
    """
    start = f'{prefix}/'
    rows = [
        (key[len(start) :], value)
        for key, value in metrics.items()
        if key.startswith(start) and key != f'{start}bg_gap'
    ]
    lines = ['| split | top-1 (%) |', '|---|---|']
    lines += [f'| {split} | {value:.2f} |' for split, value in rows]
    if f'{start}bg_gap' in metrics:
        gap = metrics[f'{start}bg_gap']
        lines.append(f'| BG-GAP (mixed_same − mixed_rand) | {gap:.2f} |')
    else:
        missing = [split for split in BG_GAP_SPLITS if split not in dict(rows)]
        if 0 < len(missing) < len(BG_GAP_SPLITS):
            lines.append(
                '| BG-GAP (mixed_same − mixed_rand) | not reported: no '
                f'{" and ".join(missing)} |'
            )
    return '\n'.join(lines)


@METRICS.register_module()
class BGChallengeMetric(BaseMetric):
    """Top-1 accuracy per Background Challenge split, and BG-GAP.

    From "Noise or Signal: The Role of Image Backgrounds in Object
    Recognition" (Xiao et al., ICLR 2021), as reported by CLAD (BMVC 2022).
    Each data sample must carry its ``split`` name in its metainfo, which
    :class:`BGChallengeTestDataset` provides when ``'split'`` is in
    ``PackInputs``' ``meta_keys``. Accuracy is counted over images, never
    averaged over batches.

    The predicted class is the argmax of ``pred_score`` (``pred_label``
    only for samples without scores), as in MMPretrain's ``Accuracy``; after
    test-time augmentation only the scores are merged, and ``pred_label``
    still holds the first view's prediction.

    A model trained on other classes than the test set's is evaluated with
    ``label_mapping``: ``'imagenet1k_to_in9'`` reads a 1000-class ImageNet
    model's scores as IN-9 predictions (argmax over all 1000 classes, then
    mapped; the 630 classes outside IN-9 count as wrong), as the official
    Background Challenge evaluation does; see
    :func:`clad_mm.evaluation.imagenet_to_in9.in9_predictions`.

    Results are ``'<prefix>/<split>'`` for every split seen and
    ``'<prefix>/bg_gap'`` when both mixed splits are present; use e.g.
    ``save_best='bg_challenge/mixed_rand'`` in ``CheckpointHook`` for model
    selection. The table is also written to the log.

    Args:
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to
            ``'bg_challenge'``.
        label_mapping (str, optional): How the model's classes become the
            test set's: None (the same classes) or ``'imagenet1k_to_in9'``.
            Defaults to None.
    """

    default_prefix = 'bg_challenge'

    def __init__(
        self,
        collect_device: str = 'cpu',
        prefix: str | None = None,
        label_mapping: str | None = None,
    ):
        if label_mapping is not None and label_mapping not in LABEL_MAPPINGS:
            raise UserError(
                f'Unknown label_mapping {label_mapping!r}; expected None or one '
                f'of {sorted(LABEL_MAPPINGS)}'
            )
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.label_mapping = label_mapping

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        if self.label_mapping is not None and not self.results:
            self._warn_on_unexpected_classes()
        for sample in data_samples:
            if 'split' not in sample:
                raise UserError(
                    "BGChallengeMetric needs each sample's 'split' (got keys: "
                    f"{sorted(sample)}); add 'split' to the meta_keys of "
                    'PackInputs in the test pipeline'
                )
            predicted = self._predicted_label(sample)
            target = int(sample['gt_label'])
            self.results.append((sample['split'], predicted == target))

    def _predicted_label(self, sample: dict) -> int:
        if self.label_mapping is not None:
            if 'pred_score' not in sample:
                raise UserError(
                    f"label_mapping={self.label_mapping!r} needs each sample's "
                    f"'pred_score' (got keys: {sorted(sample)})"
                )
            to_dataset_labels, _ = LABEL_MAPPINGS[self.label_mapping]
            try:
                return int(to_dataset_labels(sample['pred_score']))
            except ValueError as error:
                raise UserError(
                    f'{error} (BGChallengeMetric has label_mapping='
                    f'{self.label_mapping!r})'
                ) from error
        if 'pred_score' in sample:
            return int(sample['pred_score'].argmax())
        return int(sample['pred_label'])

    def _warn_on_unexpected_classes(self) -> None:
        _, mapped_classes = LABEL_MAPPINGS[self.label_mapping]
        classes = (self.dataset_meta or {}).get('classes')
        if classes is not None and tuple(classes) != mapped_classes:
            MMLogger.get_current_instance().warning(
                f'label_mapping={self.label_mapping!r} predicts the classes '
                f'{list(mapped_classes)} (in label order), but the test set '
                f'holds {list(classes)}; accuracies are only meaningful if '
                'these are the same classes in the same order'
            )

    def compute_metrics(self, results: list) -> dict:
        splits = [split for split, _ in results]
        correct = [is_correct for _, is_correct in results]
        metrics = split_accuracies(splits, correct)
        gap = bg_gap(metrics)
        if gap is not None:
            metrics['bg_gap'] = gap
        table = format_split_table(
            {f'{self.prefix}/{key}': value for key, value in metrics.items()},
            self.prefix,
        )
        MMLogger.get_current_instance().info(f'Background Challenge:\n{table}')
        return metrics
