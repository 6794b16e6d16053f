"""make_masks never replaces a file it did not write (issue 13, "nothing lost").

OUT_ROOT often already holds masks of another source (a data set's own
``fg_mask/``); a run that would replace one of them stops before any work.
"""

import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.masks.mask_folder import JOURNAL_FILE

SIZE = 48


@pytest.fixture
def img_root(tmp_path):
    """Two images, ``img/00_a/im0.png`` and ``img/01_b/im1.png``."""
    root = tmp_path / 'img'
    for index, folder in enumerate(('00_a', '01_b')):
        image = np.full((SIZE, SIZE, 3), (60, 150, 70), np.uint8)
        cv2.circle(image, (SIZE // 2, SIZE // 2), 12 + index, (40, 40, 230), -1)
        (root / folder).mkdir(parents=True)
        cv2.imwrite(str(root / folder / f'im{index}.png'), image)
    return root


def _make_masks(run_cli, img_root, out_root):
    return run_cli(
        'data/make_masks.py', img_root, out_root, '--method', 'grabcut-center',
        '--workers', '1',
    )  # fmt: skip


def test_an_existing_mask_of_another_source_stops_the_run(run_cli, img_root, tmp_path):
    out_root = tmp_path / 'out'
    theirs = out_root / 'fg_mask' / '01_b' / 'im1.png'
    theirs.parent.mkdir(parents=True)
    cv2.imwrite(str(theirs), np.full((SIZE, SIZE), 255, np.uint8))
    before = theirs.read_bytes()
    result = _make_masks(run_cli, img_root, out_root)
    result.assert_user_error('make_masks', 'fg_mask/01_b/im1.png', JOURNAL_FILE)
    assert theirs.read_bytes() == before
    # Refused before any work: not even the other image was written.
    assert not (out_root / 'only_bg_t').exists()


def test_complete_outputs_it_did_not_record_are_kept_and_others_beside_survive(
    run_cli, img_root, tmp_path
):
    out_root = tmp_path / 'out'
    assert _make_masks(run_cli, img_root, out_root).status == 0
    notes = out_root / 'fg_mask' / 'README.txt'
    notes.write_text('masks by hand')
    # Outputs of a run that kept no journal (an older clad_mm): complete, so
    # they are skipped, never replaced.
    os.remove(out_root / JOURNAL_FILE)
    mask = out_root / 'fg_mask' / '00_a' / 'im0.png'
    written_at = os.stat(mask).st_mtime_ns
    result = _make_masks(run_cli, img_root, out_root)
    assert result.status == 0, result.stderr
    assert os.stat(mask).st_mtime_ns == written_at
    assert notes.read_text() == 'masks by hand'
    report = json.loads((out_root / 'make_masks_report.json').read_text())
    assert report['counts']['skipped_existing'] == 2
    recorded = (out_root / JOURNAL_FILE).read_text()
    assert 'im0.png' not in recorded and 'make_masks_report.json' in recorded


def test_the_journal_lists_every_output_before_a_resume_redoes_one(
    run_cli, img_root, tmp_path
):
    out_root = tmp_path / 'out'
    assert _make_masks(run_cli, img_root, out_root).status == 0
    files = {
        osp.relpath(osp.join(folder, name), out_root)
        for folder, _, names in os.walk(out_root)
        for name in names
    }
    recorded = (out_root / JOURNAL_FILE).read_text()
    # Three views of two images, the report and the journal.
    assert len(files) == 8 and JOURNAL_FILE in files
    assert all(f'"{name}"' in recorded for name in files - {JOURNAL_FILE})
    broken = out_root / 'fg_grabcut' / '01_b' / 'im1.png'
    broken.write_bytes(b'truncated')
    assert _make_masks(run_cli, img_root, out_root).status == 0
    assert cv2.imread(str(broken)).shape == (SIZE, SIZE, 3)
