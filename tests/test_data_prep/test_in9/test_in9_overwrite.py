"""prepare_in9 removes only what it wrote itself (issue 13, "nothing lost")."""

import importlib.util
import os
import os.path as osp
import shutil

import pytest

from clad_mm.data_prep.in9.build import prepare_in9
from clad_mm.data_prep.in9.resume_state import JOURNAL_FILE, written_files
from clad_mm.utils.errors import OutputExistsError

_spec = importlib.util.spec_from_file_location(
    'fake_imagenet', osp.join(osp.dirname(__file__), 'fake_imagenet.py')
)
fake_imagenet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_imagenet)


def _build(fake, out_root, **kwargs):
    return prepare_in9(
        fake['train_root'],
        fake['bbox_root'],
        str(out_root),
        synsets_file=fake['synsets_file'],
        val_per_class=2,
        workers=1,
        show_progress=False,
        **kwargs,
    )


def _files(root) -> set:
    return {
        osp.relpath(osp.join(folder, name), root).replace(os.sep, '/')
        for folder, _, names in os.walk(root)
        for name in names
    }


@pytest.fixture(scope='module')
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp('in9_overwrite')
    fake = fake_imagenet.make_fake_imagenet(str(root / 'imagenet'))
    _build(fake, root / 'in9')
    return fake, root / 'in9'


def test_the_journal_lists_every_file_the_build_wrote(build):
    _, out_root = build
    recorded = written_files(str(out_root)).recorded()
    # Recorded before writing: also the masks of images the scan rejected.
    assert _files(out_root) - {JOURNAL_FILE} <= recorded
    assert {'prepare_in9_state.json', 'prepare_in9_report.json'} <= recorded
    assert any(name.startswith('.prepare_in9/masks/') for name in recorded)


def test_overwrite_refuses_a_user_file_in_a_view_folder(build, tmp_path):
    fake, built_root = build
    out_root = tmp_path / 'in9'
    shutil.copytree(built_root, out_root)
    planted = out_root / 'only_bg_t' / 'train' / '00_dog' / 'my_dog.JPEG'
    planted.write_bytes(b'mine')
    before = _files(out_root)
    with pytest.raises(OutputExistsError) as error:
        _build(fake, out_root, overwrite=True, seed=1)
    assert 'only_bg_t/train/00_dog/my_dog.JPEG' in str(error.value)
    assert _files(out_root) == before and planted.read_bytes() == b'mine'


def test_overwrite_rebuilds_and_keeps_a_file_beside(build, tmp_path):
    fake, built_root = build
    out_root = tmp_path / 'in9'
    shutil.copytree(built_root, out_root)
    earlier = written_files(str(out_root)).recorded()
    (out_root / 'notes.txt').write_text('keep me')
    report = _build(fake, out_root, overwrite=True, seed=1)
    assert report['selection']['seed'] == 1
    assert report['scanned_now'] > 0  # The cached scan went with the rest.
    assert (out_root / 'notes.txt').read_text() == 'keep me'
    recorded = written_files(str(out_root)).recorded()
    assert 'notes.txt' not in recorded
    assert _files(out_root) - {JOURNAL_FILE, 'notes.txt'} <= recorded
    # Another seed draws other validation images: the earlier build's files
    # that this one does not write are gone.
    stale = earlier - recorded
    assert stale and not stale & _files(out_root)
