"""Cosine similarity and decision consistency over image pairs (CLAD Table 3)."""

import numpy as np
import pytest

from clad_mm.analysis.consistency.metric import (
    cosine_similarities,
    decision_consistency,
    evaluate_consistency,
    summarize_consistency,
)
from clad_mm.analysis.consistency.pairing import pair_by_stem


def test_cosine_similarities_by_hand():
    features_a = np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0], [0.0, 0.0], [2, -2]])
    features_b = np.array([[0.0, 1.0], [2.0, 2.0], [4.0, 3.0], [1.0, 0.0], [-1, 1]])
    # Orthogonal, parallel, (3*4 + 4*3) / (5 * 5), a zero vector, opposite.
    expected = [0.0, 1.0, 24 / 25, 0.0, -1.0]
    assert cosine_similarities(features_a, features_b) == pytest.approx(expected)


def test_cosine_similarities_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r'\(2, 3\) and \(2, 4\)'):
        cosine_similarities(np.ones((2, 3)), np.ones((2, 4)))


def test_decision_consistency_by_hand():
    # Pairs 0, 1 and 3 agree (pair 1 agrees on a wrong class): 3 of 5.
    assert decision_consistency([0, 1, 2, 3, 4], [0, 1, 0, 3, 0]) == pytest.approx(60)
    with pytest.raises(ValueError, match='same length'):
        decision_consistency([0, 1], [0])


def test_summarize_consistency_by_hand():
    reference = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    counterpart = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    summary = summarize_consistency(
        reference,
        counterpart,
        reference_preds=[0, 1, 2, 2],
        counterpart_preds=[0, 2, 2, 1],
        labels=[0, 1, 2, 3],
    )
    assert summary['num_pairs'] == 4
    # Cosines 1, 0, 1, -1.
    assert summary['mean_cosine_similarity'] == pytest.approx(1 / 4)
    assert summary['decision_consistency'] == pytest.approx(50)
    assert summary['reference_accuracy'] == pytest.approx(75)
    assert summary['counterpart_accuracy'] == pytest.approx(50)


def image_infos(split, stems):
    return [
        dict(img_path=f'root/{split}/val/0{label}_c/{stem}.JPEG', gt_label=label)
        for label, stem in stems
    ]


def test_evaluate_consistency_records_every_pair():
    stems = [(0, 'a'), (0, 'b'), (1, 'c'), (1, 'd'), (2, 'e')]
    infos = dict(
        original=image_infos('original', stems),
        mixed_rand=image_infos('mixed_rand', stems[:4]),
    )
    pairing = pair_by_stem(infos['original'], infos['mixed_rand'])
    features_by_path = {}
    rng = np.random.default_rng(1)

    def classify(paths):
        features = np.stack(
            [features_by_path.setdefault(path, rng.normal(size=3)) for path in paths]
        )
        return features, np.array([len(path) % 3 for path in paths])

    results = evaluate_consistency(
        infos['original'], infos['mixed_rand'], pairing, classify
    )

    assert results['num_pairs'] == 4
    assert results['unmatched_references'] == [infos['original'][4]['img_path']]
    for record in results['pairs']:
        a = features_by_path[record['reference']]
        b = features_by_path[record['counterpart']]
        assert record['cosine_similarity'] == pytest.approx(
            a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        )
        assert record['reference_pred'] == len(record['reference']) % 3
    same = [r['reference_pred'] == r['counterpart_pred'] for r in results['pairs']]
    assert results['decision_consistency'] == pytest.approx(100 * np.mean(same))
