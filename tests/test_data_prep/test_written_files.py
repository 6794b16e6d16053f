"""Generators remove only what they wrote (issue 13, "nothing lost").

SynBG stands for every generator built on ``generated_set``; the journal
itself (``WrittenFiles``) is tested directly for torn lines and folders.
"""

import os
import os.path as osp

import pytest

from clad_mm.data_prep.synthetic import generated_set
from clad_mm.data_prep.synthetic.synbg import (
    JOURNAL_FILE,
    generate_synbg,
    read_synbg_meta,
)
from clad_mm.data_prep.written_files import WrittenFiles
from clad_mm.utils.errors import OutputExistsError, UserError

TINY = dict(image_size=16, train_per_class=2, test_per_class=2, show_progress=False)
TINY_WITHOUT_TRAIN = {k: v for k, v in TINY.items() if k != 'train_per_class'}


def _files(root) -> set:
    return {
        osp.relpath(osp.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    }


def test_overwrite_keeps_a_user_file_beside_the_set(tmp_path):
    out_dir = tmp_path / 'set'
    generate_synbg(str(out_dir), **TINY)
    (out_dir / 'notes.txt').write_text('keep me')
    summary = generate_synbg(str(out_dir), overwrite=True, seed=1, **TINY)
    assert summary['generated'] and summary['parameters']['seed'] == 1
    assert (out_dir / 'notes.txt').read_text() == 'keep me'


def test_overwrite_refuses_a_user_file_inside_a_set_folder_and_deletes_nothing(
    tmp_path,
):
    out_dir = tmp_path / 'set'
    generate_synbg(str(out_dir), **TINY)
    planted = out_dir / 'original' / 'train' / '00_circle' / 'my_photo.JPEG'
    planted.write_bytes(b'user bytes')
    before = _files(out_dir)
    with pytest.raises(OutputExistsError) as error:
        generate_synbg(str(out_dir), overwrite=True, seed=1, **TINY)
    assert 'original/train/00_circle/my_photo.JPEG' in str(error.value)
    assert JOURNAL_FILE in str(error.value)
    assert _files(out_dir) == before
    assert planted.read_bytes() == b'user bytes'


def test_a_folder_without_journal_is_never_cleaned(tmp_path):
    out_dir = tmp_path / 'foreign'
    (out_dir / 'test_set' / 'original').mkdir(parents=True)
    (out_dir / 'test_set' / 'original' / 'a.JPEG').write_bytes(b'a')
    (out_dir / 'test_set' / 'original' / 'b.JPEG').write_bytes(b'b')
    with pytest.raises(OutputExistsError, match='not hold a complete SynBG set'):
        generate_synbg(str(out_dir), **TINY)
    with pytest.raises(OutputExistsError) as error:
        generate_synbg(str(out_dir), overwrite=True, **TINY)
    message = str(error.value)
    assert 'holds 2 file(s)' in message and 'test_set/original/a.JPEG' in message
    assert f'holds no journal {JOURNAL_FILE}' in message
    assert _files(out_dir) == {'test_set/original/a.JPEG', 'test_set/original/b.JPEG'}


def test_overwrite_cleans_an_interrupted_run(tmp_path, monkeypatch):
    out_dir = tmp_path / 'set'
    real_write = generated_set.write_image_atomically
    calls = []

    def write_then_die(path, image):
        calls.append(path)
        if len(calls) == 30:
            raise KeyboardInterrupt  # A kill in the middle of the images.
        real_write(path, image)

    monkeypatch.setattr(generated_set, 'write_image_atomically', write_then_die)
    with pytest.raises(KeyboardInterrupt):
        generate_synbg(str(out_dir), train_per_class=3, **TINY_WITHOUT_TRAIN)
    monkeypatch.undo()
    written_by_killed_run = _files(out_dir) - {JOURNAL_FILE}
    assert len(written_by_killed_run) == 29 and read_synbg_meta(str(out_dir)) is None
    recorded = WrittenFiles(str(out_dir), JOURNAL_FILE, 'SynBG').recorded()
    assert written_by_killed_run <= recorded

    generate_synbg(str(out_dir), overwrite=True, seed=2, **TINY)
    new_files = _files(out_dir)
    now_recorded = WrittenFiles(str(out_dir), JOURNAL_FILE, 'SynBG').recorded()
    assert new_files == now_recorded | {JOURNAL_FILE}
    # Two training images per class now, so the killed run's third image of
    # class 0 (and the others it shifted) are not part of the new set: gone.
    stale = written_by_killed_run - now_recorded
    assert 'original/train/00_circle/synbg_train_000002.JPEG' in stale
    assert not stale & new_files


def test_journal_ignores_a_torn_last_line(tmp_path):
    journal = WrittenFiles(str(tmp_path), 'files.jsonl', 'writer')
    journal.record([str(tmp_path / 'a' / 'x.png'), str(tmp_path / 'b.png')])
    with open(tmp_path / 'files.jsonl', 'a', encoding='utf-8') as file:
        file.write('"c/half-writ')
    assert WrittenFiles(str(tmp_path), 'files.jsonl', 'writer').recorded() == {
        'a/x.png',
        'b.png',
    }


def test_remove_recorded_keeps_other_files_and_non_empty_folders(tmp_path):
    journal = WrittenFiles(str(tmp_path), 'files.jsonl', 'writer')
    mine = [tmp_path / 'deep' / 'er' / 'mine.png', tmp_path / 'shared' / 'mine.png']
    journal.record([str(path) for path in mine])
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'x')
    (tmp_path / 'shared' / 'theirs.png').write_bytes(b'y')
    (tmp_path / 'shared' / '.mine.png.tmp123').write_bytes(b'half')
    (tmp_path / 'shared' / '.theirs.png.tmp77').write_bytes(b'their half')
    assert journal.remove_recorded() == 2
    assert _files(tmp_path) == {'shared/theirs.png', 'shared/.theirs.png.tmp77'}
    assert not (tmp_path / 'deep').exists()
    assert tmp_path.is_dir()


def test_make_synbg_overwrite_refuses_a_planted_file(tmp_path, run_cli):
    out_dir = tmp_path / 'cli'
    args = [out_dir, '--image-size', '16', '--train-per-class', '2']
    args += ['--test-per-class', '2']
    assert run_cli('data/make_synbg.py', *args).status == 0
    planted = out_dir / 'test_set' / 'only_fg' / 'val' / '03_star' / 'mine.JPEG'
    planted.write_bytes(b'user')
    result = run_cli('data/make_synbg.py', *args, '--seed', '4', '--overwrite')
    result.assert_user_error('make_synbg', 'test_set/only_fg/val/03_star/mine.JPEG')
    assert planted.read_bytes() == b'user'


def test_make_synbg_refuses_a_foreign_folder_naming_a_file(tmp_path, run_cli):
    out_dir = tmp_path / 'foreign'
    out_dir.mkdir()
    (out_dir / 'holiday.jpg').write_bytes(b'user')
    run_cli('data/make_synbg.py', out_dir).assert_user_error(
        str(out_dir), 'holiday.jpg', '--overwrite'
    )
    assert (out_dir / 'holiday.jpg').read_bytes() == b'user'


def test_a_journal_naming_a_path_outside_its_folder_removes_nothing(tmp_path):
    root = tmp_path / 'set'
    outside = tmp_path / 'precious.txt'
    outside.write_text('keep')
    journal = WrittenFiles(str(root), 'files.jsonl', 'writer')
    journal.record([str(root / 'a.png')])
    (root / 'a.png').write_bytes(b'x')
    with open(root / 'files.jsonl', 'a', encoding='utf-8') as file:
        file.write('"../precious.txt"\n')
    edited = WrittenFiles(str(root), 'files.jsonl', 'writer')
    with pytest.raises(UserError, match=r"lists '\.\./precious\.txt'.*nothing"):
        edited.remove_recorded()
    assert outside.read_text() == 'keep' and (root / 'a.png').exists()
