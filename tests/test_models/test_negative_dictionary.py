"""Tests of CLAD's negative dictionary (clad_mm/models/memories/)."""

from collections import deque

import pytest
import torch
from mmpretrain.registry import MODELS

from clad_mm.models.losses.info_nce import info_nce_loss
from clad_mm.models.memories.negative_dictionary import NegativeDictionary


class ReferenceQueues:
    """Plain-Python FIFO per key: one bounded deque each."""

    def __init__(self, num_keys: int, queue_size: int) -> None:
        self.queues = [deque(maxlen=queue_size) for _ in range(num_keys)]

    def enqueue(self, features: torch.Tensor, keys: torch.Tensor) -> None:
        for feature, key in zip(features.tolist(), keys.tolist()):
            self.queues[key].append(feature)


def entries_oldest_first(dictionary: NegativeDictionary, key: int) -> list:
    """A queue's entries from oldest to newest, read from the buffers."""
    fill = int(dictionary.fill_levels[key])
    start = int(dictionary.pointers[key]) if fill == dictionary.queue_size else 0
    order = [(start + i) % dictionary.queue_size for i in range(fill)]
    return dictionary.queues[key, order].tolist()


def features_with_ids(ids) -> torch.Tensor:
    """Features whose values identify them: row i is [id_i, -id_i, 0.5]."""
    ids = torch.as_tensor(ids, dtype=torch.float32)
    return torch.stack([ids, -ids, torch.full_like(ids, 0.5)], dim=1)


def test_fifo_per_key_with_wrap_around_matches_deques():
    generator = torch.Generator().manual_seed(0)
    dictionary = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=3)
    reference = ReferenceQueues(num_keys=3, queue_size=4)
    next_id = 1
    for batch_size in (5, 2, 7, 1, 6, 3, 8):
        keys = torch.randint(0, 3, (batch_size,), generator=generator)
        features = features_with_ids(range(next_id, next_id + batch_size))
        next_id += batch_size
        dictionary.enqueue(features, keys)
        reference.enqueue(features, keys)
        for key in range(3):
            assert entries_oldest_first(dictionary, key) == list(reference.queues[key])
    assert dictionary.num_written.sum() == next_id - 1
    assert dictionary.step == 7


def test_more_than_queue_size_entries_for_one_key_keep_the_last_ones():
    dictionary = NegativeDictionary(num_keys=2, queue_size=3, feat_dim=3)
    reference = ReferenceQueues(num_keys=2, queue_size=3)
    dictionary.enqueue(features_with_ids([1]), torch.tensor([0]))
    reference.enqueue(features_with_ids([1]), torch.tensor([0]))
    keys = torch.tensor([0, 0, 1, 0, 0, 0, 0, 1])
    features = features_with_ids(range(2, 10))
    dictionary.enqueue(features, keys)
    reference.enqueue(features, keys)

    assert entries_oldest_first(dictionary, 0) == list(reference.queues[0])
    assert [entry[0] for entry in entries_oldest_first(dictionary, 0)] == [6, 7, 8]
    assert [entry[0] for entry in entries_oldest_first(dictionary, 1)] == [4, 9]
    assert dictionary.num_written.tolist() == [7, 2]
    assert dictionary.pointers.tolist() == [1, 2]


def test_paper_initialization_fills_every_queue_with_other_classes_only():
    labels = torch.tensor([0, 2, 2, 1, 0])
    features = features_with_ids([10, 20, 21, 30, 11])
    dictionary = NegativeDictionary(num_keys=4, queue_size=5, feat_dim=3)
    assert not dictionary.is_initialized
    dictionary.initialize(features, labels)

    assert dictionary.is_initialized
    assert dictionary.fill_levels.tolist() == [5, 5, 5, 5]
    for key in range(4):
        other_class_ids = [
            feature[0]
            for feature, label in zip(features.tolist(), labels.tolist())
            if label != key
        ]
        queue_ids = [entry[0] for entry in dictionary.queues[key].tolist()]
        # Cycled in batch order to N entries.
        expected = [other_class_ids[i % len(other_class_ids)] for i in range(5)]
        assert queue_ids == expected
    assert dictionary.stats()['staleness_max'] == 0.0


def test_initialization_truncates_a_large_batch_to_the_queue_size():
    dictionary = NegativeDictionary(num_keys=2, queue_size=2, feat_dim=3)
    dictionary.initialize(features_with_ids([1, 2, 3, 4]), torch.tensor([0, 1, 1, 1]))
    assert dictionary.queues[0, :, 0].tolist() == [2, 3]
    assert dictionary.queues[1, :, 0].tolist() == [1, 1]


def test_single_class_batch_leaves_its_own_queue_empty_and_training_running():
    dictionary = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=3)
    dictionary.initialize(features_with_ids([1, 2]), torch.tensor([1, 1]))

    assert dictionary.fill_levels.tolist() == [4, 0, 4]
    assert not dictionary.is_initialized
    negatives, valid_mask = dictionary.negatives(torch.tensor([1, 0]))
    assert not valid_mask[0].any()
    assert valid_mask[1].all()
    anchor = torch.randn(2, 3, requires_grad=True)
    loss = info_nce_loss(anchor, torch.randn(2, 3), negatives, valid_mask=valid_mask)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(anchor.grad).all()

    # The next batch completes the empty queue and leaves the others alone.
    filled_before = dictionary.queues[[0, 2]].clone()
    dictionary.initialize(features_with_ids([5, 6]), torch.tensor([0, 2]))
    assert dictionary.is_initialized
    assert dictionary.queues[1, :, 0].tolist() == [5, 6, 5, 6]
    assert torch.equal(dictionary.queues[[0, 2]], filled_before)


def test_partly_filled_queue_offers_only_written_slots():
    dictionary = NegativeDictionary(num_keys=2, queue_size=4, feat_dim=3)
    dictionary.enqueue(features_with_ids([1, 2]), torch.tensor([1, 1]))
    negatives, valid_mask = dictionary.negatives(torch.tensor([1, 0, 1]))
    assert negatives.shape == (3, 4, 3)
    assert valid_mask.tolist() == [
        [True, True, False, False],
        [False] * 4,
        [True, True, False, False],
    ]
    assert negatives[0, :2, 0].tolist() == [1, 2]


def test_anchor_never_meets_its_own_positive():
    # CLAD's invariant: positives are enqueued under their background label,
    # which differs from the anchor's class, so the queue of the anchor's
    # class never holds that positive.
    generator = torch.Generator().manual_seed(1)
    num_classes = 4
    dictionary = NegativeDictionary(num_keys=num_classes, queue_size=8, feat_dim=16)
    dictionary.initialize(
        torch.randn(8, 16, generator=generator), torch.arange(8) % num_classes
    )
    for _ in range(5):
        anchor_labels = torch.randint(0, num_classes, (6,), generator=generator)
        shift = torch.randint(1, num_classes, (6,), generator=generator)
        background_labels = (anchor_labels + shift) % num_classes
        positives = torch.randn(6, 16, generator=generator)
        dictionary.enqueue(positives, background_labels)
        negatives, valid_mask = dictionary.negatives(anchor_labels)
        for k in range(6):
            own_negatives = negatives[k][valid_mask[k]]
            assert not (own_negatives == positives[k]).all(dim=1).any()
        # Sanity check of the test: the positives are in the dictionary.
        other_negatives, _ = dictionary.negatives(background_labels)
        for k in range(6):
            assert (other_negatives[k] == positives[k]).all(dim=1).any()


def test_negatives_are_a_copy_that_later_updates_do_not_change():
    dictionary = NegativeDictionary(num_keys=1, queue_size=2, feat_dim=3)
    dictionary.enqueue(features_with_ids([1, 2]), torch.tensor([0, 0]))
    negatives, _ = dictionary.negatives(torch.tensor([0]))
    dictionary.enqueue(features_with_ids([3, 4]), torch.tensor([0, 0]))
    assert negatives[0, :, 0].tolist() == [1, 2]
    assert not negatives.requires_grad


def test_enqueue_stores_detached_features():
    dictionary = NegativeDictionary(num_keys=1, queue_size=2, feat_dim=3)
    features = torch.randn(2, 3, requires_grad=True)
    dictionary.enqueue(features * 2, torch.tensor([0, 0]))
    assert not dictionary.queues.requires_grad
    assert dictionary.queues.grad_fn is None


def run_updates(dictionary: NegativeDictionary, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for _ in range(3):
        dictionary.enqueue(
            torch.randn(5, 8, generator=generator),
            torch.randint(0, 3, (5,), generator=generator),
        )


def test_state_dict_round_trip_resumes_with_identical_queues(tmp_path):
    original = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=8)
    original.initialize(torch.randn(4, 8), torch.tensor([0, 1, 2, 0]))
    run_updates(original, seed=0)
    checkpoint = tmp_path / 'dictionary.pth'
    torch.save(original.state_dict(), checkpoint)

    resumed = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=8)
    resumed.load_state_dict(torch.load(checkpoint))
    saved_names = set(original.state_dict())
    assert saved_names == {'queues', 'pointers', 'num_written', 'written_at', 'step'}
    for name, buffer in original.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], buffer), name

    run_updates(original, seed=1)
    run_updates(resumed, seed=1)
    for name, buffer in original.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], buffer), name
    assert resumed.stats() == original.stats()


def test_stats_by_hand():
    dictionary = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=3)
    assert dictionary.stats() == dict(
        fill_ratio_mean=0.0, fill_ratio_min=0.0, staleness_mean=0.0, staleness_max=0.0
    )
    # step 1: key 0 gets 2 entries; step 2: key 0 gets 1, key 1 gets 1;
    # step 3: key 1 gets 1. Ages at step 3: key 0 -> 2, 2, 1; key 1 -> 1, 0.
    dictionary.enqueue(features_with_ids([1, 2]), torch.tensor([0, 0]))
    dictionary.enqueue(features_with_ids([3, 4]), torch.tensor([0, 1]))
    dictionary.enqueue(features_with_ids([5]), torch.tensor([1]))

    stats = dictionary.stats()
    assert stats['fill_ratio_mean'] == pytest.approx((3 / 4 + 2 / 4 + 0) / 3)
    assert stats['fill_ratio_min'] == 0.0
    assert stats['staleness_mean'] == pytest.approx((2 + 2 + 1 + 1 + 0) / 5)
    assert stats['staleness_max'] == 2.0


def test_random_mode_starts_full_with_identical_unit_vectors():
    first = NegativeDictionary(num_keys=2, queue_size=3, feat_dim=3, init_mode='random')
    torch.manual_seed(123)
    second = NegativeDictionary(
        num_keys=2, queue_size=3, feat_dim=3, init_mode='random'
    )

    assert first.is_initialized
    assert first.stats()['fill_ratio_min'] == 1.0
    assert torch.allclose(first.queues.norm(dim=2), torch.ones(2, 3))
    assert torch.equal(first.queues, second.queues)
    queues_before = first.queues.clone()
    first.initialize(features_with_ids([1, 2]), torch.tensor([0, 1]))
    assert torch.equal(first.queues, queues_before)


def test_built_from_a_config():
    dictionary = MODELS.build(
        dict(type='NegativeDictionary', num_keys=9, queue_size=32, feat_dim=2048)
    )
    assert isinstance(dictionary, NegativeDictionary)
    assert dictionary.queues.shape == (9, 32, 2048)
    assert 'num_keys=9' in repr(dictionary)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(num_keys=0), 'num_keys must be a positive int'),
        (dict(num_keys=2, queue_size=0), 'queue_size must be a positive int'),
        (dict(num_keys=2, init_mode='zeros'), 'init_mode must be one of'),
    ],
)
def test_invalid_configuration_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NegativeDictionary(**kwargs)


def test_invalid_inputs_give_clear_errors():
    dictionary = NegativeDictionary(num_keys=3, queue_size=2, feat_dim=3)
    with pytest.raises(ValueError, match=r'keys must lie in \[0, 2\]'):
        dictionary.enqueue(features_with_ids([1]), torch.tensor([3]))
    with pytest.raises(ValueError, match=r'keys must lie in \[0, 2\]'):
        dictionary.negatives(torch.tensor([-1]))
    with pytest.raises(ValueError, match='1-D integer tensor'):
        dictionary.negatives(torch.tensor([0.0]))
    with pytest.raises(ValueError, match=r'features must be \[B, feat_dim\]'):
        dictionary.enqueue(torch.ones(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='got 2 features but 1 keys'):
        dictionary.initialize(torch.ones(2, 3), torch.tensor([0]))


def test_a_queue_replaced_within_one_step_is_warned_about_once(logged_warnings):
    # 8 ranks x 64 images on 9 keys put about 57 entries per key into one
    # enqueue; here one process gives key 1 exactly queue_size entries, so
    # queue 1 keeps nothing of the earlier step.
    dictionary = NegativeDictionary(num_keys=3, queue_size=4, feat_dim=3)
    dictionary.enqueue(features_with_ids(range(1, 7)), torch.tensor([0, 0, 1, 1, 2, 2]))
    dictionary.enqueue(features_with_ids(range(7, 10)), torch.tensor([0, 1, 2]))
    assert logged_warnings == []  # at most 3 < 4 new entries per key
    dictionary.enqueue(features_with_ids(range(10, 15)), torch.tensor([1, 1, 0, 1, 1]))
    (message,) = logged_warnings
    assert 'keys [1]' in message and 'queue_size=4' in message
    assert 'W*B/K' in message
    dictionary.enqueue(features_with_ids(range(15, 21)), torch.tensor([2] * 6))
    assert len(logged_warnings) == 1  # logged once per dictionary
