"""Listing and checking ``<folder>/<class>/<stem>.<ext>`` trees.

Shared by the Background Challenge datasets. Everything here works on local
folders with :func:`os.scandir` (no image is opened), so that listing the
45 405 training images and their masks and backgrounds stays fast. Entries
whose names start with a dot (``.DS_Store``, ``._x.JPEG`` from macOS
archives) are not data and are ignored; any other unexpected entry is an
error, so that no sample is dropped without the user knowing. Builders
write such trees with :func:`clad_mm.utils.fileio.write_image_atomically`,
whose unfinished files are dot files for the same reason.
"""

import os
import os.path as osp
import re
from collections.abc import Iterable, Sequence

from clad_mm.utils.errors import MissingFileError, UserError

#: Test splits of the Background Challenge, in the order of its paper tables.
BG_CHALLENGE_SPLITS = (
    'original',
    'only_fg',
    'only_bg_b',
    'only_bg_t',
    'no_fg',
    'mixed_same',
    'mixed_rand',
    'mixed_next',
)
#: The splits of BG-GAP = MIXED-SAME - MIXED-RAND accuracy.
BG_GAP_SPLITS = ('mixed_same', 'mixed_rand')
#: Test splits that measure texture (shape) bias: S-CLAD's Stylized IN-9 and
#: IN-9-Sketch (CLAD, BMVC 2022, Table 7) and the cue-conflict splits of the
#: SynBG texture variant.
TEXTURE_SPLITS = ('stylized', 'sketch', 'random_texture', 'outline', 'only_texture')
#: Every test split clad_mm knows: background splits first, then texture ones.
KNOWN_TEST_SPLITS = BG_CHALLENGE_SPLITS + TEXTURE_SPLITS
IMAGE_EXTENSIONS = ('.jpeg', '.jpg', '.png')
MASK_EXTENSIONS = ('.png', '.npy')
_EXAMPLES_SHOWN = 5


def order_splits(splits: Iterable[str]) -> list[str]:
    """Puts split names in report order.

    Args:
        splits (Iterable[str]): Split names, in any order.

    Returns:
        list[str]: The names of :data:`KNOWN_TEST_SPLITS` among them in that
        order (background splits, then texture splits), then any other names
        alphabetically; each name once.
    """
    names = set(splits)
    return [split for split in KNOWN_TEST_SPLITS if split in names] + sorted(
        names - set(KNOWN_TEST_SPLITS)
    )


def require_dir(path: str, expected: str) -> None:
    """Raises unless ``path`` is a folder.

    Args:
        path (str): Folder that must exist.
        expected (str): What the folder should hold, for the error message.

    Raises:
        FileNotFoundError: If ``path`` is not a folder.
    """
    if not osp.isdir(path):
        raise MissingFileError(
            f'{path} does not exist or is not a folder; expected {expected}'
        )


def list_class_folders(parent: str) -> list[str]:
    """Sorted names of the class folders in ``parent``.

    Args:
        parent (str): Folder whose sub-folders are classes.

    Returns:
        list[str]: Sub-folder names, sorted (``00_dog``, ``01_bird``, ...).

    Raises:
        FileNotFoundError: If ``parent`` has no sub-folder.
    """
    with os.scandir(parent) as entries:
        folders = sorted(
            entry.name
            for entry in entries
            if entry.is_dir() and not entry.name.startswith('.')
        )
    if not folders:
        raise MissingFileError(f'{parent} holds no class folder')
    return folders


def require_same_class_folders(
    reference_parent: str,
    reference_folders: Sequence[str],
    parent: str,
    folders: Sequence[str],
) -> None:
    """Raises unless two folders hold the same class folders.

    Args:
        reference_parent (str): Folder that defines the classes.
        reference_folders (Sequence[str]): Its class folders.
        parent (str): Folder to compare with it.
        folders (Sequence[str]): Class folders of ``parent``.

    Raises:
        ValueError: Naming the class folders present on one side only.
    """
    only_in_reference = sorted(set(reference_folders) - set(folders))
    only_in_parent = sorted(set(folders) - set(reference_folders))
    problems = [
        f'{name!r} is in {present} but not in {absent}'
        for names, present, absent in (
            (only_in_reference, reference_parent, parent),
            (only_in_parent, parent, reference_parent),
        )
        for name in names
    ]
    if problems:
        raise UserError('Class folders differ: ' + '; '.join(problems))


def list_stems(class_dir: str, extensions: Sequence[str]) -> dict[str, str]:
    """Maps each file stem of a class folder to its file name.

    Args:
        class_dir (str): Folder holding one class's files.
        extensions (Sequence[str]): Accepted lower-case extensions with the
            dot; matched case-insensitively (``.JPEG`` is ``.jpeg``).

    Returns:
        dict[str, str]: ``{stem: file name}``.

    Raises:
        ValueError: If the folder holds an entry without an accepted
            extension, or two files with the same stem.
        FileNotFoundError: If the folder holds no file.
    """
    files = {}
    unexpected = []
    with os.scandir(class_dir) as entries:
        for entry in entries:
            if entry.name.startswith('.'):
                continue
            stem, extension = osp.splitext(entry.name)
            if extension.lower() not in extensions or not entry.is_file():
                unexpected.append(entry.name)
            elif stem in files:
                raise UserError(
                    f'{class_dir} holds two files with the stem {stem!r}: '
                    f'{files[stem]!r} and {entry.name!r}'
                )
            else:
                files[stem] = entry.name
    if unexpected:
        raise UserError(
            f'{class_dir} holds {len(unexpected)} entries that are not files '
            f'with an extension in {tuple(extensions)}: '
            f'{_examples(sorted(unexpected))}'
        )
    if not files:
        raise MissingFileError(
            f'Class folder {class_dir} is empty; expected files with an '
            f'extension in {tuple(extensions)}'
        )
    return files


def require_counterparts(
    stems: dict[str, Iterable[str]],
    parent: str,
    counterpart_stems: dict[str, Iterable[str]],
    counterpart_parent: str,
) -> None:
    """Raises unless every stem of one tree has a file in another.

    Args:
        stems (dict[str, Iterable[str]]): Stems by class folder of ``parent``.
        parent (str): Folder the stems were listed from.
        counterpart_stems (dict[str, Iterable[str]]): Stems by class folder
            of ``counterpart_parent``, with the same class folders.
        counterpart_parent (str): Folder that must hold a file per stem.

    Raises:
        ValueError: Giving the number of stems without a counterpart and the
            first few of them.
    """
    missing = [
        f'{folder}/{stem}'
        for folder, folder_stems in stems.items()
        for stem in sorted(set(folder_stems) - set(counterpart_stems[folder]))
    ]
    if missing:
        raise UserError(
            f'{counterpart_parent} does not correspond file for file with '
            f'{parent}: {len(missing)} stems of {parent} have no file in '
            f'{counterpart_parent}, e.g. {_examples(missing)}'
        )


def class_metainfo(folders: Sequence[str], classes: Sequence[str] | None) -> dict:
    """Dataset meta information for classes given by folders.

    Args:
        folders (Sequence[str]): Sorted class folders, e.g. ``00_dog``.
        classes (Sequence[str] | None): Class names the user configured, or
            None to name each class after its folder without the ``NN_``
            index prefix (``02_wheeled vehicle`` -> ``wheeled vehicle``).

    Returns:
        dict: ``classes`` and ``class_folders`` (both tuples).

    Raises:
        ValueError: If the configured names do not match the folder count.
    """
    if classes is None:
        classes = [re.sub(r'^\d+_', '', folder) for folder in folders]
    elif len(classes) != len(folders):
        raise UserError(
            f'{len(classes)} class names are configured but the data has '
            f'{len(folders)} class folders: {list(folders)}'
        )
    return dict(classes=tuple(classes), class_folders=tuple(folders))


def _examples(names: Sequence[str]) -> str:
    shown = ', '.join(names[:_EXAMPLES_SHOWN])
    return shown + (', ...' if len(names) > _EXAMPLES_SHOWN else '')
