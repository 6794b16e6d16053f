"""GroupAccuracyMetric against group-robustness figures counted by hand."""

from unittest import mock

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from clad_mm.evaluation.metrics import (
    GroupAccuracyMetric,
    format_group_table,
    group_accuracies,
    train_weighted_mean,
    unweighted_group_mean,
    worst_group,
)
from clad_mm.utils.errors import UserError

# Waterbirds' groups (label 0 landbird, 1 waterbird; group = 2 * label +
# place) and its training images per group (Sagawa et al., 2020).
WATERBIRDS_GROUPS = (
    'landbird on land',
    'landbird on water',
    'waterbird on land',
    'waterbird on water',
)
WATERBIRDS_TRAIN_COUNTS = (3498, 184, 56, 1057)
WATERBIRDS_META = dict(
    group_names=WATERBIRDS_GROUPS, train_group_counts=WATERBIRDS_TRAIN_COUNTS
)


def sample(group, predicted, target):
    return dict(
        group=group,
        pred_label=torch.tensor([predicted]),
        gt_label=torch.tensor([target]),
    )


def waterbirds_batches():
    """Test images per group 5 / 3 / 2 / 0, of which 4 / 1 / 1 / - right.

    By hand:
    - per group: 4/5 = 80 %, 1/3 = 33.33 %, 1/2 = 50 %, group 3 absent;
    - overall: (4 + 1 + 1) / 10 = 60 %;
    - unweighted group mean: (80 + 100/3 + 50) / 3 = 54.44 %;
    - train-proportion-weighted mean, weights renormalised over groups 0-2
      (3498 + 184 + 56 = 3738 training images):
      (3498 * 80 + 184 * 100/3 + 56 * 50) / 3738 = 77.25 %;
    - worst group: group 1 at 33.33 % (an absent group 3 counted as 0 % would
      wrongly be the worst, and pull the unweighted mean to 40.83 %).
    """
    return [
        [sample(0, 0, 0), sample(0, 0, 0), sample(0, 1, 0), sample(1, 0, 0)],
        [sample(0, 0, 0), sample(0, 0, 0), sample(1, 1, 0), sample(1, 1, 0)],
        [sample(2, 1, 1), sample(2, 0, 1)],
    ]


def evaluate(batches, metric=None, dataset_meta=WATERBIRDS_META):
    metric = metric or GroupAccuracyMetric()
    metric.dataset_meta = dataset_meta
    for batch in batches:
        metric.process(None, batch)
    return metric.evaluate(size=sum(len(batch) for batch in batches))


HAND_WEIGHTED_MEAN = (3498 * 80 + 184 * 100 / 3 + 56 * 50) / 3738


def test_every_figure_matches_hand_count():
    metrics = evaluate(waterbirds_batches())
    assert metrics == {
        'group/accuracy/overall': pytest.approx(60.0),
        'group/accuracy/group_0': pytest.approx(80.0),
        'group/accuracy/group_1': pytest.approx(100 / 3),
        'group/accuracy/group_2': pytest.approx(50.0),
        'group/num_images/group_0': 5,
        'group/num_images/group_1': 3,
        'group/num_images/group_2': 2,
        'group/num_images/group_3': 0,
        'group/unweighted_group_mean': pytest.approx((80 + 100 / 3 + 50) / 3),
        'group/train_weighted_mean': pytest.approx(HAND_WEIGHTED_MEAN),
        'group/worst_group': pytest.approx(100 / 3),
        'group/worst_group_index': 1,
    }
    assert HAND_WEIGHTED_MEAN == pytest.approx(77.2534, abs=1e-4)


def test_empty_group_is_absent_not_zero():
    metrics = evaluate(waterbirds_batches())
    assert 'group/accuracy/group_3' not in metrics
    # Counted as 0 %, group 3 would be the worst and the mean 40.83 %.
    assert metrics['group/worst_group_index'] == 1
    assert metrics['group/unweighted_group_mean'] == pytest.approx(54.4444, abs=1e-4)
    table = format_group_table(metrics, WATERBIRDS_GROUPS)
    assert '| 3 | waterbird on water | 0 | – |' in table.splitlines()


def test_pure_functions_leave_out_empty_groups():
    # Groups 0 (1 of 2 right) and 2 (1 of 1 right) of 3; group 1 empty.
    accuracies = group_accuracies([0, 2, 0], [True, True, False], num_groups=3)
    assert accuracies == {0: pytest.approx(50.0), 2: pytest.approx(100.0)}
    assert unweighted_group_mean(accuracies) == pytest.approx(75.0)
    # Weights 10 and 30 renormalised over groups 0 and 2 (group 1's 60
    # dropped): (10 * 50 + 30 * 100) / 40 = 87.5.
    assert train_weighted_mean(accuracies, [10, 60, 30]) == pytest.approx(87.5)
    assert worst_group(accuracies) == (0, pytest.approx(50.0))


def test_worst_group_tie_takes_lowest_index():
    assert worst_group({1: 20.0, 3: 20.0, 0: 90.0}) == (1, 20.0)


def test_weighted_mean_is_none_without_training_images_in_present_groups():
    assert train_weighted_mean({1: 70.0}, [5, 0]) is None


def test_group_index_outside_the_described_groups_is_an_error():
    with pytest.raises(UserError, match=r'outside \[0, 4\)'):
        evaluate([[sample(4, 0, 0)]])


def test_scores_decide_over_labels():
    # pred_label says 0 each time; the scores' argmax is 1, 1, 0 against
    # targets 1, 1, 1: group 0 gets 2 of 3 right by score (0 of 3 by label).
    def scored(predicted_by_score, target):
        pred_score = torch.zeros(2)
        pred_score[predicted_by_score] = 1.0
        return dict(
            group=0,
            pred_label=torch.tensor([0]),
            pred_score=pred_score,
            gt_label=torch.tensor([target]),
        )

    metrics = evaluate([[scored(1, 1), scored(1, 1), scored(0, 1)]])
    assert metrics['group/accuracy/group_0'] == pytest.approx(200 / 3)
    assert metrics['group/accuracy/overall'] == pytest.approx(200 / 3)


def test_arguments_override_dataset_meta():
    # Train counts (1, 1, 1, 1) instead of Waterbirds': the weighted mean over
    # groups 0-2 becomes the unweighted one, (80 + 100/3 + 50) / 3.
    metric = GroupAccuracyMetric(
        group_names=('a', 'b', 'c', 'd'), train_group_counts=(1, 1, 1, 1)
    )
    with mock.patch.object(MMLogger, 'get_current_instance') as logger:
        metrics = evaluate(waterbirds_batches(), metric)
    assert metrics['group/train_weighted_mean'] == pytest.approx(
        (80 + 100 / 3 + 50) / 3
    )
    (logged_table,), _ = logger.return_value.info.call_args
    assert '| 0 | a | 5 | 80.00 |' in logged_table
    assert 'landbird' not in logged_table


def test_names_and_counts_of_different_lengths_are_an_error():
    metric = GroupAccuracyMetric(train_group_counts=(1, 2, 3))
    with pytest.raises(UserError, match='group_names has 4 groups'):
        evaluate(waterbirds_batches(), metric)


def test_missing_group_names_the_fix():
    metric = GroupAccuracyMetric()
    bad = dict(pred_label=torch.tensor([0]), gt_label=torch.tensor([0]))
    with pytest.raises(UserError, match="add 'group' to the meta_keys of PackInputs"):
        metric.process(None, [bad])


def test_missing_train_counts_warns_and_drops_only_the_weighted_mean(
    logged_warnings,
):
    metrics = evaluate(waterbirds_batches(), dataset_meta={})
    assert 'group/train_weighted_mean' not in metrics
    assert metrics['group/worst_group'] == pytest.approx(100 / 3)
    assert any(
        'does not report train_weighted_mean' in message
        and 'train_group_counts' in message
        for message in logged_warnings
    )
    # Without names or counts the groups are those seen (0-2), named by index.
    assert 'group/num_images/group_3' not in metrics
    table = format_group_table(metrics, ['group 0', 'group 1', 'group 2'])
    assert 'not reported: no training group counts' in table


def test_table_rows():
    metrics = evaluate(waterbirds_batches())
    assert format_group_table(metrics, WATERBIRDS_GROUPS).splitlines() == [
        '| group | name | test images | accuracy (%) |',
        '|---|---|---|---|',
        '| 0 | landbird on land | 5 | 80.00 |',
        '| 1 | landbird on water | 3 | 33.33 |',
        '| 2 | waterbird on land | 2 | 50.00 |',
        '| 3 | waterbird on water | 0 | – |',
        '| overall | | | 60.00 |',
        '| unweighted group mean | | | 54.44 |',
        '| train-proportion-weighted mean | | | 77.25 |',
        '| worst group | landbird on water (group 1) | | 33.33 |',
    ]


def test_registered_metric_gives_checkpoint_hook_keys():
    metric = METRICS.build(dict(type='GroupAccuracyMetric'))
    metrics = evaluate(waterbirds_batches(), metric)
    save_best = ['group/worst_group', 'group/unweighted_group_mean']
    hook = CheckpointHook(save_best=save_best, rule='greater')
    assert all(key in metrics for key in hook.key_indicators)
    # As the docstring says: MMEngine cannot infer the rule for these names.
    with pytest.raises(ValueError, match='Cannot infer the rule'):
        CheckpointHook(save_best='group/worst_group')
