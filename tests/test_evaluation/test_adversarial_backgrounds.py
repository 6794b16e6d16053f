"""Challenge accuracy on adversarial backgrounds, on tiny test roots."""

import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.evaluation.adversarial_backgrounds import (
    challenge_accuracy,
    compose,
    evaluate_adversarial_backgrounds,
    list_backgrounds,
    list_foregrounds,
    make_image_loader,
    sample_subset,
)

SYNBG_PER_CLASS = 2


@pytest.fixture(scope='module')
def synbg_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('adversarial') / 'synbg'
    generate_synbg(
        str(root),
        image_size=32,
        train_per_class=2,
        test_per_class=SYNBG_PER_CLASS,
        seed=3,
        show_progress=False,
    )
    return str(root / 'test_set')


@pytest.fixture(scope='module')
def synbg(synbg_root):
    foregrounds, classes = list_foregrounds(synbg_root)
    return foregrounds, list_backgrounds(synbg_root), classes


def make_oracle(foregrounds, seen=None):
    """A predict() that finds which foreground's pixels a composite shows."""
    load_image = make_image_loader()
    cut_outs = []
    for foreground in foregrounds:
        mask = np.load(foreground.mask_path).astype(bool)
        cut_outs.append((foreground, mask, load_image(foreground.image_path)[mask]))

    def predict(composites):
        labels = []
        for composite in composites:
            (match,) = [
                foreground
                for foreground, mask, pixels in cut_outs
                if np.array_equal(composite[mask], pixels)
            ]
            if seen is not None:
                seen.append(match.name)
            labels.append(match.label)
        return labels

    return predict


def strip_times(report):
    return dict(
        {key: value for key, value in report.items() if key != 'seconds'},
        foregrounds=[
            {key: value for key, value in record.items() if key != 'seconds'}
            for record in report['foregrounds']
        ],
    )


def test_synbg_listing_matches_the_folders(synbg_root, synbg):
    foregrounds, backgrounds, classes = synbg
    class_folders = sorted(os.listdir(osp.join(synbg_root, 'original', 'val')))
    assert len(classes) == len(class_folders) == 9
    assert len(foregrounds) == len(backgrounds) == 9 * SYNBG_PER_CLASS
    for foreground in foregrounds:
        folder, file_name = foreground.name.split('/')
        assert class_folders.index(folder) == foreground.label
        stem = osp.splitext(file_name)[0]
        assert foreground.mask_path == osp.join(
            synbg_root, 'fg_mask', 'val', folder, stem + '.npy'
        )
    assert backgrounds[0].image_path.startswith(osp.join(synbg_root, 'only_bg_t'))


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


def test_oracle_is_never_fooled(synbg):
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


def write_hand_made_root(root):
    """Two classes, three foregrounds, four backgrounds, lossless PNGs.

    Foreground ``k`` shows the value ``200 + k`` in its 2x2 mask at the
    centre; background ``j`` (in listing order) is uniformly ``10 * (j + 1)``.
    """
    foregrounds = {'00_a': ['f0', 'f1'], '01_b': ['f2']}
    backgrounds = {'00_a': ['b0', 'b1'], '01_b': ['b2', 'b3']}
    for folder, stems in foregrounds.items():
        for stem in stems:
            image = np.zeros((8, 8, 3), np.uint8)
            image[3:5, 3:5] = 200 + int(stem[1])
            mask = np.zeros((8, 8), np.uint8)
            mask[3:5, 3:5] = 1
            os.makedirs(osp.join(root, 'original', 'val', folder), exist_ok=True)
            os.makedirs(osp.join(root, 'fg_mask', 'val', folder), exist_ok=True)
            cv2.imwrite(osp.join(root, 'original', 'val', folder, stem + '.png'), image)
            np.save(osp.join(root, 'fg_mask', 'val', folder, stem + '.npy'), mask)
    for folder, stems in backgrounds.items():
        os.makedirs(osp.join(root, 'only_bg_t', 'val', folder), exist_ok=True)
        for stem in stems:
            image = np.full((8, 8, 3), 10 * (int(stem[1]) + 1), np.uint8)
            cv2.imwrite(
                osp.join(root, 'only_bg_t', 'val', folder, stem + '.png'), image
            )
    return str(root)


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
def test_hand_made_case_gives_exact_accuracy(tmp_path, batch_size):
    root = write_hand_made_root(tmp_path / 'root')
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


class Interrupted(Exception):
    pass


def fooled_by_some_pixel_sums(oracle):
    """predict(): the oracle's label, but wrong on composites whose pixel sum
    is a multiple of 31, which fools about half of the SynBG foregrounds."""

    def predict(composites):
        labels = oracle(composites)
        return [
            label + 1 if int(composite.sum()) % 31 == 0 else label
            for composite, label in zip(composites, labels)
        ]

    return predict


def test_resume_gives_the_uninterrupted_result(synbg, tmp_path):
    foregrounds, backgrounds, _ = synbg
    settings = dict(test_root='synbg', max_foregrounds=None)
    run = dict(batch_size=4, show_progress=False)
    reference = evaluate_adversarial_backgrounds(
        foregrounds,
        backgrounds,
        fooled_by_some_pixel_sums(make_oracle(foregrounds)),
        **run,
    )
    assert 0 < reference['num_vulnerable'] < len(foregrounds)

    state_path = str(tmp_path / 'state.jsonl')
    predict = fooled_by_some_pixel_sums(make_oracle(foregrounds))
    calls = []

    def interrupted(composites):
        if len(calls) == 20:
            raise Interrupted
        calls.append(len(composites))
        return predict(composites)

    with pytest.raises(Interrupted):
        evaluate_adversarial_backgrounds(
            foregrounds,
            backgrounds,
            interrupted,
            state_path=state_path,
            settings=settings,
            **run,
        )
    with open(state_path) as file:
        lines = file.read().splitlines()
    finished = [json.loads(line)['foreground'] for line in lines[1:]]
    assert 0 < len(finished) < len(foregrounds)
    assert finished == [fg.name for fg in foregrounds[: len(finished)]]
    # A run killed while writing leaves half a line; it is dropped.
    with open(state_path, 'a') as file:
        file.write('{"foreground": "00_circle/synbg_te')

    seen = []
    resumed = evaluate_adversarial_backgrounds(
        foregrounds,
        backgrounds,
        fooled_by_some_pixel_sums(make_oracle(foregrounds, seen)),
        state_path=state_path,
        settings=settings,
        **run,
    )
    assert set(seen) == {fg.name for fg in foregrounds[len(finished) :]}
    assert strip_times(resumed) == dict(
        strip_times(reference), settings=resumed['settings']
    )
    with open(state_path) as file:
        lines = file.read().splitlines()
    assert len(lines) == 1 + len(foregrounds)
    assert all(json.loads(line) for line in lines)


def test_resume_with_other_settings_is_an_error(synbg, tmp_path):
    foregrounds, backgrounds, _ = synbg
    state_path = str(tmp_path / 'state.jsonl')

    def run(settings, count=4):
        return evaluate_adversarial_backgrounds(
            foregrounds[:count],
            backgrounds,
            lambda batch: [0] * len(batch),
            state_path=state_path,
            settings=settings,
            show_progress=False,
        )

    run(dict(test_root='a', checkpoint='x.pth', max_foregrounds=4))
    with pytest.raises(ValueError) as error:
        run(dict(test_root='b', checkpoint='x.pth', max_foregrounds=4))
    assert state_path in str(error.value)
    assert "test_root: 'a' in the file, 'b' now" in str(error.value)
    with pytest.raises(ValueError, match='num_foregrounds: 4 in the file, 3 now'):
        run(dict(test_root='a', checkpoint='x.pth', max_foregrounds=4), count=3)
    assert run(dict(test_root='a', checkpoint='x.pth', max_foregrounds=4))


def test_a_foreign_state_file_is_not_overwritten(synbg, tmp_path):
    foregrounds, backgrounds, _ = synbg
    state_path = tmp_path / 'state.jsonl'
    state_path.write_text('my notes')
    with pytest.raises(ValueError, match='is not a state file'):
        evaluate_adversarial_backgrounds(
            foregrounds,
            backgrounds,
            lambda batch: [0] * len(batch),
            state_path=str(state_path),
            show_progress=False,
        )
    assert state_path.read_text() == 'my notes'


def test_missing_mask_names_the_file(tmp_path):
    root = write_hand_made_root(tmp_path / 'root')
    os.remove(osp.join(root, 'fg_mask', 'val', '00_a', 'f1.npy'))
    with pytest.raises(ValueError, match='00_a/f1'):
        list_foregrounds(root)


def test_mask_of_another_size_names_the_file(tmp_path):
    root = write_hand_made_root(tmp_path / 'root')
    mask_path = osp.join(root, 'fg_mask', 'val', '01_b', 'f2.npy')
    np.save(mask_path, np.zeros((8, 7), np.uint8))
    with pytest.raises(ValueError) as error:
        list_foregrounds(root)
    assert mask_path in str(error.value)
    assert '(8, 7)' in str(error.value) and '8x8' in str(error.value)


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


def test_sample_subset_is_seeded_and_keeps_order():
    items = list(range(50))
    first = sample_subset(items, 10, np.random.default_rng(5))
    again = sample_subset(items, 10, np.random.default_rng(5))
    other = sample_subset(items, 10, np.random.default_rng(6))
    assert first == again != other
    assert len(set(first)) == 10 and first == sorted(first)
    assert sample_subset(items, None, np.random.default_rng(0)) == items
    assert sample_subset(items, 80, np.random.default_rng(0)) == items
