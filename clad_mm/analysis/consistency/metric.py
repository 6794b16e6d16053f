"""ORIGINAL vs MIXED-RAND feature similarity and decision consistency.

From CLAD (BMVC 2022, "A Contrastive Learning based Approach for Background
Debiasing"), Table 3: a model that ignores the background should give the
same feature and the same decision for an image and for its MIXED-RAND
version (the same foreground on a random class's background). Over pairs of
such images (:mod:`.pairing`), Table 3 reports

- the mean cosine similarity of the two images' features (the pooled
  backbone feature that feeds the classifier, MMPretrain's ``pre_logits``);
- the decision consistency: the share of pairs whose two images get the same
  predicted class, right or wrong.

Paper values (ResNet-50 on ImageNet-9, similarity / consistency as a
fraction): Base (IN9) 0.795 / 0.800, Base (MR) 0.864 / 0.864, CLAD
0.914 / 0.915, CLAD+ 0.920 / 0.969. Here consistency is in percent.
"""

from collections.abc import Callable, Sequence

import numpy as np

from clad_mm.utils.errors import UserError

from .pairing import SplitPairing


def cosine_similarities(
    features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-8
) -> np.ndarray:
    """Cosine similarity of each row of ``features_a`` with the same row of b.

    Args:
        features_a (np.ndarray): N x D features.
        features_b (np.ndarray): N x D features.
        eps (float): Smallest norm used in the division, so that a zero
            vector gives 0 rather than NaN.

    Returns:
        np.ndarray: N float64 similarities in [-1, 1].
    """
    features_a = np.asarray(features_a, dtype=np.float64)
    features_b = np.asarray(features_b, dtype=np.float64)
    if features_a.shape != features_b.shape or features_a.ndim != 2:
        raise ValueError(
            'features must be two N x D arrays of the same shape, got '
            f'{features_a.shape} and {features_b.shape}'
        )
    norms = np.maximum(np.linalg.norm(features_a, axis=1), eps) * np.maximum(
        np.linalg.norm(features_b, axis=1), eps
    )
    return np.einsum('nd,nd->n', features_a, features_b) / norms


def decision_consistency(labels_a: Sequence[int], labels_b: Sequence[int]) -> float:
    """Percentage of pairs whose two predicted labels are equal.

    Args:
        labels_a (Sequence[int]): Predicted class of each pair's first image.
        labels_b (Sequence[int]): Predicted class of each pair's second image.

    Returns:
        float: Consistency in percent (CLAD's Table 3 gives it as a fraction).
    """
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.shape != labels_b.shape or labels_a.size == 0:
        raise ValueError(
            'need two non-empty label sequences of the same length, got '
            f'{labels_a.size} and {labels_b.size}'
        )
    return 100.0 * float(np.mean(labels_a == labels_b))


def summarize_consistency(
    reference_features: np.ndarray,
    counterpart_features: np.ndarray,
    reference_preds: Sequence[int],
    counterpart_preds: Sequence[int],
    labels: Sequence[int],
) -> dict:
    """CLAD's Table 3 numbers, and both images' accuracy, over N pairs.

    Args:
        reference_features (np.ndarray): N x D features of the references.
        counterpart_features (np.ndarray): N x D features of the composites.
        reference_preds (Sequence[int]): Predicted class of each reference.
        counterpart_preds (Sequence[int]): Predicted class of each composite.
        labels (Sequence[int]): The foreground's class of each pair.

    Returns:
        dict: ``num_pairs``, ``mean_cosine_similarity``,
        ``decision_consistency`` (%), ``reference_accuracy`` (%) and
        ``counterpart_accuracy`` (%), and ``cosine_similarities`` (N).
    """
    similarities = cosine_similarities(reference_features, counterpart_features)
    labels = np.asarray(labels)
    return dict(
        num_pairs=len(labels),
        mean_cosine_similarity=float(similarities.mean()),
        decision_consistency=decision_consistency(reference_preds, counterpart_preds),
        reference_accuracy=100.0
        * float(np.mean(np.asarray(reference_preds) == labels)),
        counterpart_accuracy=100.0
        * float(np.mean(np.asarray(counterpart_preds) == labels)),
        cosine_similarities=similarities,
    )


def evaluate_consistency(
    reference_infos: Sequence[dict],
    counterpart_infos: Sequence[dict],
    pairing: SplitPairing,
    classify: Callable[[list], tuple],
) -> dict:
    """Classifies both images of every pair and summarises Table 3.

    Args:
        reference_infos (Sequence[dict]): Data infos of the references.
        counterpart_infos (Sequence[dict]): Data infos of the composites.
        pairing (SplitPairing): Pairs between them.
        classify (Callable[[list[str]], tuple[np.ndarray, np.ndarray]]):
            Maps image paths to their N x D features and N predicted
            labels, e.g. a :class:`clad_mm.apis.ClassifierRunner`'s outputs.

    Returns:
        dict: :func:`summarize_consistency`'s numbers (without the array),
        ``pairs_by_method``, ``pairs`` (one record per pair: paths, label,
        method, match score, both predictions and the cosine similarity),
        ``unmatched_references`` (paths) and ``unmatched_counterparts``
        (path, reason, closest reference and its score).
    """
    if not pairing.pairs:
        raise UserError(
            'no pair of images was found: '
            f'{len(pairing.unmatched_counterparts)} counterpart images unmatched'
        )
    references = [reference_infos[pair.reference] for pair in pairing.pairs]
    counterparts = [counterpart_infos[pair.counterpart] for pair in pairing.pairs]
    reference_features, reference_preds = classify(
        [info['img_path'] for info in references]
    )
    counterpart_features, counterpart_preds = classify(
        [info['img_path'] for info in counterparts]
    )
    labels = [int(info['gt_label']) for info in references]
    summary = summarize_consistency(
        reference_features,
        counterpart_features,
        reference_preds,
        counterpart_preds,
        labels,
    )
    similarities = summary.pop('cosine_similarities')
    summary['pairs_by_method'] = pairing.count_by_method()
    summary['pairs'] = [
        dict(
            reference=references[row]['img_path'],
            counterpart=counterparts[row]['img_path'],
            label=labels[row],
            method=pair.method,
            match_score=pair.match_score,
            reference_pred=int(reference_preds[row]),
            counterpart_pred=int(counterpart_preds[row]),
            cosine_similarity=float(similarities[row]),
        )
        for row, pair in enumerate(pairing.pairs)
    ]
    summary['unmatched_references'] = [
        reference_infos[index]['img_path'] for index in pairing.unmatched_references
    ]
    summary['unmatched_counterparts'] = [
        dict(
            path=counterpart_infos[item.counterpart]['img_path'],
            reason=item.reason,
            closest_reference=None
            if item.best_reference is None
            else reference_infos[item.best_reference]['img_path'],
            closest_score=item.best_score,
        )
        for item in pairing.unmatched_counterparts
    ]
    return summary


def format_consistency_table(
    results: dict,
    reference_split: str = 'original',
    counterpart_split: str = 'mixed_rand',
) -> str:
    """Renders :func:`evaluate_consistency`'s summary as a Markdown table.

    Args:
        results (dict): Output of :func:`evaluate_consistency`.
        reference_split (str): Name of the reference split, for the labels.
        counterpart_split (str): Name of the composite split.

    Returns:
        str: A two-column table (quantity, value).
    """
    methods = ', '.join(
        f'{count} by {method}' for method, count in results['pairs_by_method'].items()
    )
    rows = [
        ('pairs', f'{results["num_pairs"]} ({methods})'),
        (f'unmatched {reference_split}', str(len(results['unmatched_references']))),
        (
            f'unmatched {counterpart_split}',
            str(len(results['unmatched_counterparts'])),
        ),
        ('feature cosine similarity', f'{results["mean_cosine_similarity"]:.3f}'),
        ('decision consistency (%)', f'{results["decision_consistency"]:.2f}'),
        (f'top-1 {reference_split} (%)', f'{results["reference_accuracy"]:.2f}'),
        (f'top-1 {counterpart_split} (%)', f'{results["counterpart_accuracy"]:.2f}'),
    ]
    lines = ['| quantity | value |', '|---|---|']
    lines += [f'| {name} | {value} |' for name, value in rows]
    return '\n'.join(lines)
