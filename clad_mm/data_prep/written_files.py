"""The journal of the files a data set writer put into its output folder.

A writer of data sets (SynBG and its texture variant, ``prepare_in9``,
``make_masks``) may only ever remove or replace what it wrote itself. It
records every file in its journal, ``OUT_DIR/<journal name>``, *before*
writing it, so that the journal covers even the files of a run killed
mid-way. ``--overwrite`` then removes exactly the recorded files and the
folders that end up empty; every other file stays. A file the journal does
not list, inside a folder the writer fills, would be mixed into the new data
set (a dataset lists every image below its class folders), so the writer
refuses to start instead of deleting or hiding it. A folder without a
journal is never cleaned.

The journal is a text file of one JSON string per line (a path relative to
``OUT_DIR``, ``/``-separated), appended to and flushed before each write; a
torn last line, left by a kill in the middle of an append, names a file
whose write had not started and is ignored.
"""

import json
import os
import os.path as osp
from collections.abc import Iterable

from clad_mm.utils.errors import OutputExistsError, UserError
from clad_mm.utils.fileio import is_temporary_name

#: How many foreign files a refusal names.
NAMED_FILES = 3


def _relative(root: str, path: str) -> str:
    return osp.relpath(path, root).replace(os.sep, '/')


class WrittenFiles:
    """The journal of one writer in one output folder.

    Args:
        root (str): The output folder.
        journal_name (str): File name of the journal inside ``root``.
        writer (str): The writer's name in messages, e.g. ``'make_synbg'``.
    """

    def __init__(self, root: str, journal_name: str, writer: str):
        self.root = root
        self.path = osp.join(root, journal_name)
        self.journal_name = journal_name
        self.writer = writer
        self._recorded = None

    def exists(self) -> bool:
        """Whether the folder holds this writer's journal."""
        return osp.isfile(self.path)

    def recorded(self) -> set[str]:
        """The files recorded so far, relative to ``root`` (``/``-separated).

        Returns:
            set[str]: Empty if there is no journal.
        """
        if self._recorded is None:
            self._recorded = set()
            if self.exists():
                with open(self.path, encoding='utf-8') as file:
                    for line in file:
                        if not line.endswith('\n'):
                            break  # Torn by a kill: that file was never written.
                        self._recorded.add(json.loads(line))
        return self._recorded

    def record(self, paths: Iterable[str]) -> None:
        """Records files before they are written.

        Args:
            paths (Iterable[str]): Absolute paths or paths below ``root``
                (as built with ``osp.join(root, ...)``).
        """
        recorded = self.recorded()
        new = [
            relative
            for relative in dict.fromkeys(_relative(self.root, path) for path in paths)
            if relative not in recorded
        ]
        if not new:
            return
        os.makedirs(self.root, exist_ok=True)
        lines = ''.join(json.dumps(relative) + '\n' for relative in new)
        # direct-write: an append-only journal, flushed before the files it
        # names are written; its reader drops a torn last line.
        with open(self.path, 'a', encoding='utf-8') as file:
            file.write(lines)
        recorded.update(new)

    def foreign_files(self, entries: Iterable[str]) -> list[str]:
        """Files in the writer's entries of ``root`` that it did not record.

        Args:
            entries (Iterable[str]): Folders and files below ``root`` that the
                writer fills (e.g. ``original``, ``test_set``,
                ``synbg_meta.json``).

        Returns:
            list[str]: Sorted paths relative to ``root`` (see
            :func:`unlisted_files`).
        """
        return unlisted_files(self.root, entries, self.recorded())

    def refuse_foreign_files(self, entries: Iterable[str]) -> None:
        """Raises if files the writer did not record lie in its entries.

        Args:
            entries (Iterable[str]): As for :meth:`foreign_files`.

        Raises:
            OutputExistsError: Naming the first few such files.
        """
        refuse_unlisted_files(
            self.root,
            entries,
            self.recorded(),
            self.writer,
            f'its journal {self.journal_name} does not list them'
            if self.exists()
            else f'it holds no journal {self.journal_name}',
        )

    def remove_recorded(self) -> int:
        """Removes every recorded file, then the folders left empty.

        The temporaries of killed atomic writes of recorded files
        (``.<name>.tmp<pid>``) go too; folders are removed bottom-up only
        when empty, ``root`` itself never; the journal goes last, so a kill
        during the removal can be repeated.

        Returns:
            int: Number of recorded files that existed and were removed.

        Raises:
            UserError: Before removing anything, if the journal names a path
                outside ``root`` (an edited or foreign journal).
        """
        root = osp.normpath(self.root)
        names_by_folder = {}
        for relative in sorted(self.recorded()):
            path = osp.normpath(osp.join(root, relative))
            if osp.isabs(relative) or not path.startswith(root + os.sep):
                raise UserError(
                    f'{self.path} lists {relative!r}, which is not below {root}; '
                    "the journal was edited or is not this folder's, so nothing "
                    'was removed'
                )
            folder, name = osp.split(path)
            names_by_folder.setdefault(folder, set()).add(name)
        removed = 0
        for folder, names in names_by_folder.items():
            if not osp.isdir(folder):
                continue
            for name in os.listdir(folder):
                path = osp.join(folder, name)
                if name in names and (osp.isfile(path) or osp.islink(path)):
                    os.remove(path)
                    removed += 1
                elif is_temporary_name(name) and _target_name(name) in names:
                    os.remove(path)
        for folder in sorted(names_by_folder, key=len, reverse=True):
            while folder != root and folder.startswith(root + os.sep):
                if not osp.isdir(folder) or os.listdir(folder):
                    break
                os.rmdir(folder)
                folder = osp.dirname(folder)
        if self.exists():
            os.remove(self.path)
        self._recorded = set()
        return removed


def _target_name(temporary_name: str) -> str:
    """``x.png`` of the temporary ``.x.png.tmp123``."""
    return temporary_name[1 : temporary_name.rindex('.tmp')]


def unlisted_files(root: str, entries: Iterable[str], listed: set[str]) -> list[str]:
    """Files in some entries of ``root`` that ``listed`` does not name.

    The hidden temporaries of killed atomic writes
    (:func:`clad_mm.utils.fileio.is_temporary_name`) are the writers' own
    and not returned.

    Args:
        root (str): The output folder.
        entries (Iterable[str]): Folders and files below ``root`` to look in.
        listed (set[str]): Expected files, relative to ``root``,
            ``/``-separated.

    Returns:
        list[str]: Sorted paths relative to ``root``, ``/``-separated.
    """
    unlisted = []
    for entry in entries:
        path = osp.join(root, entry)
        if osp.isfile(path) or osp.islink(path):
            candidates = [path]
        else:
            candidates = [
                osp.join(folder, name)
                for folder, _, names in os.walk(path)
                for name in names
            ]
        unlisted.extend(
            relative
            for relative in map(
                lambda candidate: _relative(root, candidate), candidates
            )
            if not is_temporary_name(osp.basename(relative)) and relative not in listed
        )
    return sorted(unlisted)


def refuse_unlisted_files(
    root: str, entries: Iterable[str], listed: set[str], writer: str, why: str
) -> None:
    """Raises if files ``listed`` does not name lie in a writer's entries.

    Such files would be mixed into the data set the writer builds there (a
    dataset lists every image below its class folders), so the writer stops
    instead of deleting or adopting them.

    Args:
        root (str): The output folder.
        entries (Iterable[str]): As for :func:`unlisted_files`.
        listed (set[str]): As for :func:`unlisted_files`.
        writer (str): The writer's name in the message.
        why (str): Why the files are not its own, e.g. ``'its journal
            x.jsonl does not list them'``.

    Raises:
        OutputExistsError: Naming the first few such files.
    """
    unlisted = unlisted_files(root, entries, listed)
    if unlisted:
        named = ', '.join(unlisted[:NAMED_FILES])
        more = ''
        if len(unlisted) > NAMED_FILES:
            more = f' and {len(unlisted) - NAMED_FILES} more'
        raise OutputExistsError(
            f'{root} holds {len(unlisted)} file(s) that {writer} did not write '
            f'({named}{more}; {why}) in the folders it writes, where they would '
            'be mixed into the new data set; move them away or choose another '
            'output folder'
        )
