"""BGChallengeMetric against accuracies counted by hand."""

import pytest
import torch

from clad_mm.evaluation import BGChallengeMetric, bg_gap, format_split_table
from clad_mm.utils.errors import UserError


def sample(split, predicted, target):
    return dict(
        split=split,
        pred_label=torch.tensor([predicted]),
        gt_label=torch.tensor([target]),
    )


def evaluate(batches):
    metric = BGChallengeMetric()
    for batch in batches:
        metric.process(None, batch)
    return metric.evaluate(size=sum(len(b) for b in batches))


def test_per_split_accuracy_and_gap_match_hand_count():
    # original: 2 of 3 right; mixed_same: 3 of 4; mixed_rand: 1 of 2.
    batches = [
        [
            sample('original', 0, 0),
            sample('mixed_same', 1, 1),
            sample('mixed_rand', 2, 3),
        ],
        [
            sample('original', 4, 4),
            sample('original', 5, 6),
            sample('mixed_same', 7, 7),
        ],
        [
            sample('mixed_same', 8, 8),
            sample('mixed_same', 0, 1),
            sample('mixed_rand', 2, 2),
        ],
    ]
    metrics = evaluate(batches)
    assert metrics['bg_challenge/original'] == pytest.approx(200 / 3)
    assert metrics['bg_challenge/mixed_same'] == pytest.approx(75.0)
    assert metrics['bg_challenge/mixed_rand'] == pytest.approx(50.0)
    assert metrics['bg_challenge/bg_gap'] == pytest.approx(25.0)
    assert list(metrics) == [
        'bg_challenge/original',
        'bg_challenge/mixed_same',
        'bg_challenge/mixed_rand',
        'bg_challenge/bg_gap',
    ]


def test_accuracy_is_counted_over_images_not_batches():
    # Batch means would give (100 + 0) / 2 = 50; over images it is 1 / 4.
    batches = [
        [sample('only_fg', 3, 3)],
        [sample('only_fg', 0, 1), sample('only_fg', 0, 2), sample('only_fg', 0, 3)],
    ]
    metrics = evaluate(batches)
    assert metrics['bg_challenge/only_fg'] == pytest.approx(25.0)
    assert 'bg_challenge/bg_gap' not in metrics


def test_scores_decide_over_labels():
    # After test-time augmentation only pred_score is merged; pred_label
    # still holds the first view's class. Argmax of the scores: 2 of 3 right.
    def scored(predicted_by_label, predicted_by_score, target):
        pred_score = torch.zeros(4)
        pred_score[predicted_by_score] = 1.0
        return dict(
            split='mixed_rand',
            pred_label=torch.tensor([predicted_by_label]),
            pred_score=pred_score,
            gt_label=torch.tensor([target]),
        )

    metrics = evaluate([[scored(0, 1, 1), scored(2, 3, 3), scored(3, 2, 3)]])
    assert metrics['bg_challenge/mixed_rand'] == pytest.approx(200 / 3)


def test_missing_split_names_the_fix():
    metric = BGChallengeMetric()
    bad = dict(pred_label=torch.tensor([0]), gt_label=torch.tensor([0]))
    with pytest.raises(UserError, match='PackInputs'):
        metric.process(None, [bad])


def test_bg_gap_needs_both_mixed_splits():
    assert bg_gap({'mixed_same': 90.0}) is None
    assert bg_gap({'mixed_same': 90.0, 'mixed_rand': 80.5}) == pytest.approx(9.5)


def test_table_has_a_row_per_split_and_the_gap():
    table = format_split_table(
        {
            'bg_challenge/original': 96.0,
            'bg_challenge/mixed_rand': 73.4,
            'bg_challenge/bg_gap': 14.1,
            'other/accuracy': 1.0,
        }
    )
    lines = table.splitlines()
    assert lines[2] == '| original | 96.00 |'
    assert lines[3] == '| mixed_rand | 73.40 |'
    assert 'BG-GAP' in lines[4] and '14.10' in lines[4]
    assert len(lines) == 5
