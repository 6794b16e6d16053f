"""What lets an IN-9 build resume: its state file, scan log and mask cache.

``OUT_ROOT/prepare_in9_state.json`` marks a folder as a prepare_in9 output
and records the settings that decide its content (the synset order and the
selection); a run with other settings is refused instead of mixing two
builds. ``OUT_ROOT/.prepare_in9/scan.jsonl`` holds one line per decided
image, ``OUT_ROOT/.prepare_in9/masks/`` the GrabCut mask of each kept one,
so that a resumed run scans only undecided images. A resumed run first
deletes the dot temporaries a killed run left
(:func:`clad_mm.utils.fileio.remove_stale_temporaries`).

Every file the build writes is recorded first in
``OUT_ROOT/prepare_in9_files.jsonl``
(:class:`~clad_mm.data_prep.written_files.WrittenFiles`); ``--overwrite``
removes exactly those, and refuses (naming them) files of anyone else in
the folders the build writes.
"""

import json
import os
import os.path as osp

from clad_mm.utils.errors import OutputExistsError, UserError
from clad_mm.utils.fileio import remove_stale_temporaries, write_json_atomically

from ..written_files import WrittenFiles
from .report import REPORT_FILE
from .writing import TRAIN_VIEWS, VAL_VIEWS

STATE_FILE = 'prepare_in9_state.json'
JOURNAL_FILE = 'prepare_in9_files.jsonl'
CACHE_DIR = '.prepare_in9'
SCAN_LOG = 'scan.jsonl'
FORMAT = 'prepare_in9'
# Entries of OUT_ROOT that the build writes: a file in them that the journal
# does not list would be mixed into the build, so ``overwrite=True`` refuses
# it instead of deleting it.
_OWNED_ENTRIES = (
    *dict.fromkeys(TRAIN_VIEWS + VAL_VIEWS),
    CACHE_DIR,
    STATE_FILE,
    REPORT_FILE,
)


def written_files(out_root: str) -> WrittenFiles:
    """The journal of every file the build wrote into ``out_root``."""
    return WrittenFiles(out_root, JOURNAL_FILE, 'prepare_in9')


def scan_log_path(out_root: str) -> str:
    """The scan log of a build: one JSON line per decided image."""
    return osp.join(out_root, CACHE_DIR, SCAN_LOG)


def cached_mask_path(out_root: str, key: str) -> str:
    """Where the scan pass caches the GrabCut mask of kept image ``key``."""
    return osp.join(out_root, CACHE_DIR, 'masks', key + '.png')


def read_scan_log(path: str) -> dict[str, dict]:
    """Decided images of an earlier run; a torn last line is dropped.

    Args:
        path (str): The scan log; it need not exist.

    Returns:
        dict[str, dict]: ``{key: scan result}``.
    """
    if not osp.isfile(path):
        return {}
    decided = {}
    with open(path, encoding='utf-8') as file:
        for line in file:
            if not line.endswith('\n'):
                break
            record = json.loads(line)
            decided[record['key']] = record
    return decided


def prepare_out_root(
    out_root: str, synsets_digest: str, selection: dict, overwrite: bool
) -> dict:
    """Checks OUT_ROOT and returns the state of an earlier run (or a new one).

    Args:
        out_root (str): Output root of the build.
        synsets_digest (str): Digest of the synset order of this run.
        selection (dict): ``seed``, ``per_class`` and ``val_per_class`` of
            this run.
        overwrite (bool): Remove the files an earlier build recorded in its
            journal (and the folders left empty) instead of refusing a
            non-empty ``out_root``; other files stay.

    Returns:
        dict: The state (``format``, ``synsets``, ``selection``; the
        selection is None until :func:`record_selection`).

    Raises:
        OutputExistsError: If ``out_root`` is a file, is not empty and not a
            prepare_in9 output, or holds one of another synset order; with
            ``overwrite``, if the build's folders hold files it did not
            record (naming them).
        ValueError: If it holds a build of another selection.
    """
    if osp.exists(out_root) and not osp.isdir(out_root):
        raise OutputExistsError(f'{out_root} exists and is a file, not a folder')
    state_path = osp.join(out_root, STATE_FILE)
    if osp.isdir(out_root) and os.listdir(out_root):
        if overwrite:
            journal = written_files(out_root)
            journal.refuse_foreign_files(_OWNED_ENTRIES)
            journal.remove_recorded()
        elif not osp.isfile(state_path):
            raise OutputExistsError(
                f'{out_root} is not empty and holds no {STATE_FILE}, so it is '
                'not the output of an earlier prepare_in9 run; choose an '
                'empty or new folder, or pass --overwrite to remove what an '
                'earlier prepare_in9 run wrote there'
            )
    if osp.isfile(state_path):
        with open(state_path, encoding='utf-8') as file:
            state = json.load(file)
        if state.get('format') != FORMAT or state.get('synsets') != synsets_digest:
            raise OutputExistsError(
                f'{state_path} was written by a run with another synset order '
                'or is not a prepare_in9 state; pass --overwrite or choose '
                'another output folder'
            )
        if state['selection'] not in (None, selection):
            raise UserError(
                f'{out_root} was written with the selection '
                f'{state["selection"]}, not {selection}; pass --overwrite or '
                'choose another output folder'
            )
    else:
        state = {'format': FORMAT, 'synsets': synsets_digest, 'selection': None}
        written_files(out_root).record([state_path, scan_log_path(out_root)])
        write_json_atomically(state_path, state, indent=2)
    # A killed run leaves the dot temporaries of its unfinished writes.
    remove_stale_temporaries(out_root)
    return state


def record_selection(out_root: str, state: dict, selection: dict) -> None:
    """Records the selection in the state once the subsets are drawn.

    Args:
        out_root (str): Output root of the build.
        state (dict): The state from :func:`prepare_out_root`; updated.
        selection (dict): The selection of this run.
    """
    if state['selection'] is None:
        state['selection'] = selection
        write_json_atomically(osp.join(out_root, STATE_FILE), state, indent=2)
