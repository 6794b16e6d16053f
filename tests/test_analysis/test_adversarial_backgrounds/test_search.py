"""The fooling-background search and the challenge accuracy, on tiny test roots."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.analysis.adversarial_backgrounds.challenge_set import (
    list_backgrounds,
    list_foregrounds,
    make_image_loader,
)
from clad_mm.analysis.adversarial_backgrounds.search import (
    challenge_accuracy,
    compose,
    evaluate_adversarial_backgrounds,
)


@pytest.mark.parametrize('constant', [0, 4, 9])
def test_constant_prediction_only_spares_its_class(synbg_root, synbg, constant):
    foregrounds, backgrounds, classes = synbg
    calls = []

    def predict(composites):
        calls.append(len(composites))
        return [constant] * len(composites)

    report = evaluate_adversarial_backgrounds(
        foregrounds, backgrounds, predict, batch_size=1, show_progress=False
    )
    # Counted from the files: only the constant class's foregrounds survive;
    # class 9 does not exist, so every foreground is vulnerable.
    folders = sorted(os.listdir(osp.join(synbg_root, 'original', 'val')))
    spared = (
        len(os.listdir(osp.join(synbg_root, 'original', 'val', folders[constant])))
        if constant < len(folders)
        else 0
    )
    assert report['challenge_accuracy'] == pytest.approx(
        100 * spared / len(foregrounds)
    )
    assert report['num_vulnerable'] == len(foregrounds) - spared
    for record in report['foregrounds']:
        if record['vulnerable']:
            # Early exit: the first background already fools it.
            assert record['backgrounds_tried'] == record['composites_evaluated'] == 1
            assert record['first_fooling_background'] == 0
            assert record['fooling_background'] == backgrounds[0].name
            assert record['fooling_prediction'] == constant
        else:
            assert record['backgrounds_tried'] == len(backgrounds)
    assert sum(calls) == report['composites_evaluated']
    assert sum(calls) == (len(foregrounds) - spared) + spared * len(backgrounds)


def test_oracle_is_never_fooled(synbg, make_oracle):
    foregrounds, backgrounds, _ = synbg
    seen = []
    report = evaluate_adversarial_backgrounds(
        foregrounds,
        backgrounds,
        make_oracle(foregrounds, seen),
        batch_size=7,
        show_progress=False,
    )
    assert report['challenge_accuracy'] == 100.0
    assert report['num_vulnerable'] == 0
    num_composites = len(foregrounds) * len(backgrounds)
    assert report['composites_evaluated'] == report['backgrounds_tried']
    assert report['composites_evaluated'] == num_composites == len(seen)
    # Every foreground was pasted on every background, in order.
    assert seen == [fg.name for fg in foregrounds for _ in backgrounds]
    assert report['backgrounds'] == [background.name for background in backgrounds]


def test_composites_are_pasted_on_each_background(synbg):
    foregrounds, backgrounds, _ = synbg
    load_image = make_image_loader()
    composites = []
    evaluate_adversarial_backgrounds(
        foregrounds[:1],
        backgrounds,
        lambda batch: composites.extend(batch) or [foregrounds[0].label] * len(batch),
        batch_size=5,
        show_progress=False,
    )
    image = cv2.imread(foregrounds[0].image_path)
    mask = np.load(foregrounds[0].mask_path).astype(bool)
    assert len(composites) == len(backgrounds)
    for composite, background in zip(composites, backgrounds):
        expected = cv2.imread(background.image_path)
        expected[mask] = image[mask]
        np.testing.assert_array_equal(composite, expected)
    np.testing.assert_array_equal(load_image(foregrounds[0].image_path), image)


def test_compose_resizes_a_background_of_another_size():
    image = np.full((6, 8, 3), 200, np.uint8)
    mask = np.zeros((6, 8), np.uint8)
    mask[1:3, 2:5] = 1
    background = np.full((20, 10, 3), (1, 2, 3), np.uint8)
    composite = compose(image, mask, background)
    assert composite.shape == (6, 8, 3)
    assert (composite[1:3, 2:5] == 200).all()
    outside = composite[mask == 0]
    assert (outside == np.array([1, 2, 3], np.uint8)).all()


def fooled_by_background_1(labels_by_foreground, fooled_foregrounds, calls):
    """predict(): wrong only for the given foregrounds on background 1.

    Logs every call as ``(foreground, [background, ...])``.
    """

    def predict(composites):
        labels, seen_backgrounds = [], []
        for composite in composites:
            foreground = int(composite[4, 4, 0]) - 200
            background = int(composite[0, 0, 0]) // 10 - 1
            seen_backgrounds.append(background)
            label = labels_by_foreground[foreground]
            fooled = background == 1 and foreground in fooled_foregrounds
            labels.append(1 - label if fooled else label)
        calls.append((foreground, seen_backgrounds))
        return labels

    return predict


FOOLED_BATCHES = {1: [[0], [1]], 2: [[0], [1, 2]], 64: [[0], [1, 2]]}
ROBUST_BATCHES = {
    1: [[0], [1], [2], [3]],
    2: [[0], [1, 2], [3]],
    64: [[0], [1, 2], [3]],
}


@pytest.mark.parametrize('batch_size', [1, 2, 64])
def test_hand_made_case_gives_exact_accuracy(hand_made_root, batch_size):
    root = hand_made_root
    foregrounds, classes = list_foregrounds(root)
    backgrounds = list_backgrounds(root)
    assert classes == ('a', 'b')
    assert [fg.label for fg in foregrounds] == [0, 0, 1]
    assert [bg.name for bg in backgrounds] == [
        '00_a/b0.png',
        '00_a/b1.png',
        '01_b/b2.png',
        '01_b/b3.png',
    ]
    calls = []
    report = evaluate_adversarial_backgrounds(
        foregrounds,
        backgrounds,
        fooled_by_background_1({0: 0, 1: 0, 2: 1}, {0, 2}, calls),
        batch_size=batch_size,
        show_progress=False,
    )
    # Foregrounds 0 and 2 of 3 are vulnerable: 100 * 1 / 3.
    assert report['challenge_accuracy'] == pytest.approx(100 / 3)
    assert report['num_vulnerable'] == 2
    records = report['foregrounds']
    assert [r['vulnerable'] for r in records] == [True, False, True]
    assert [r['first_fooling_background'] for r in records] == [1, None, 1]
    assert [r['fooling_background'] for r in records] == [
        '00_a/b1.png',
        None,
        '00_a/b1.png',
    ]
    assert [r['fooling_prediction'] for r in records] == [1, None, 0]
    assert [r['backgrounds_tried'] for r in records] == [2, 4, 2]
    # Early exit: no batch after the one holding the fooling background;
    # batches grow 1, 2, 4, ... up to batch_size.
    fooled, robust = FOOLED_BATCHES[batch_size], ROBUST_BATCHES[batch_size]
    assert calls == (
        [(0, batch) for batch in fooled]
        + [(1, batch) for batch in robust]
        + [(2, batch) for batch in fooled]
    )
    evaluated = [sum(map(len, batches)) for batches in (fooled, robust, fooled)]
    assert [r['composites_evaluated'] for r in records] == evaluated
    assert report['composites_evaluated'] == sum(evaluated)


def test_predict_returning_too_few_labels_is_an_error(synbg):
    foregrounds, backgrounds, _ = synbg
    # Right for the first batch (one composite), one label short for the
    # second (two composites).
    with pytest.raises(ValueError, match='returned 1 labels for 2 composites'):
        evaluate_adversarial_backgrounds(
            foregrounds[:1],
            backgrounds,
            lambda batch: [foregrounds[0].label],
            batch_size=3,
            show_progress=False,
        )


def test_challenge_accuracy_by_hand():
    assert challenge_accuracy([True, False, False, False]) == 75.0
    assert challenge_accuracy([True]) == 0.0
    with pytest.raises(ValueError):
        challenge_accuracy([])
