"""Resuming the adversarial-background evaluation from its state file."""

import json

import pytest

from clad_mm.analysis.adversarial_backgrounds.search import (
    evaluate_adversarial_backgrounds,
)
from clad_mm.utils.errors import UserError


def strip_times(report):
    return dict(
        {key: value for key, value in report.items() if key != 'seconds'},
        foregrounds=[
            {key: value for key, value in record.items() if key != 'seconds'}
            for record in report['foregrounds']
        ],
    )


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


def test_resume_gives_the_uninterrupted_result(synbg, make_oracle, tmp_path):
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


def test_a_state_of_other_foregrounds_is_an_error(synbg, tmp_path):
    foregrounds, backgrounds, _ = synbg
    state_path = str(tmp_path / 'state.jsonl')

    def run(chosen):
        return evaluate_adversarial_backgrounds(
            chosen,
            backgrounds,
            lambda batch: [0] * len(batch),
            state_path=state_path,
            show_progress=False,
        )

    run(foregrounds[:2])
    # Same number of foregrounds, so the settings match; the names do not.
    with pytest.raises(ValueError) as error:
        run(foregrounds[2:4])
    assert state_path in str(error.value)
    assert foregrounds[0].name in str(error.value)
    assert 'the test set changed' in str(error.value)


def test_a_replaced_checkpoint_is_not_mixed_in(synbg, tmp_path):
    foregrounds, backgrounds, _ = synbg
    state_path = str(tmp_path / 'state.jsonl')

    def run(checkpoint_sha256):
        return evaluate_adversarial_backgrounds(
            foregrounds[:2],
            backgrounds,
            lambda batch: [0] * len(batch),
            state_path=state_path,
            settings=dict(checkpoint='/m/x.pth', checkpoint_sha256=checkpoint_sha256),
            show_progress=False,
        )

    run('aaa')
    with pytest.raises(UserError) as error:
        run('bbb')
    assert str(error.value) == (
        f'{state_path} holds results of checkpoint /m/x.pth with sha256 aaa, but '
        'that file now has sha256 bbb: it was replaced, and resuming would mix '
        'two models. Use another output folder, or delete the state file to '
        'start over'
    )
    assert run('aaa')
