"""What every synthetic set generator does besides drawing its images.

SynBG and its texture variant write the same kind of output folder::

    OUT_DIR/
      <train folder>/train/<class>/<stem>.<ext>   one folder per training view
      test_set/<split>/val/<class>/<stem>.<ext>    one folder per test split
      test_set/fg_mask/val/<class>/<stem>.npy      H x W uint8 in {0, 1}
      <manifest file>                              per image: labels, box, ...
      <meta file>                                  parameters and counts
      <journal file>                               every file written

and handle an existing folder the same way: a complete set made with the
same parameters is kept ("generate if absent"), anything else is refused
unless ``overwrite`` is given. ``overwrite`` removes exactly the files an
earlier run recorded in its journal (:mod:`clad_mm.data_prep.written_files`,
each recorded before it is written, so an interrupted run is covered too)
and refuses, naming them, files of anyone else in the set's folders. The
meta file is written
last, after every image, so its presence (with the file count of every
folder it lists) marks the set as complete; images and JSON files are
written atomically (:mod:`clad_mm.utils.fileio`), so a killed run leaves no
file that a later run would take for a finished one.
"""

import json
import os
import os.path as osp
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.utils.errors import OutputExistsError
from clad_mm.utils.fileio import write_image_atomically, write_json_atomically

from ..written_files import NAMED_FILES, WrittenFiles

#: Writes ``{path: image}`` after recording every path in the journal.
ImageWriter = Callable[[dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class GeneratedSetLayout:
    """What a data set generator owns in its output folder.

    Attributes:
        name (str): Name of the set in messages, e.g. ``'SynBG'``.
        data_format (str): ``format`` value of its meta file.
        version (int): ``version`` value of its meta file, raised whenever
            the generator draws different images from the same parameters.
        meta_file (str): Meta file, written last: its presence marks the set
            as complete.
        manifest_file (str): JSON file listing every generated image.
        journal_file (str): Journal of every file written
            (:class:`~clad_mm.data_prep.written_files.WrittenFiles`).
        train_folders (tuple[str, ...]): Training views, each written as
            ``<folder>/train/``.
        test_splits (tuple[str, ...]): Test splits, each written as
            ``test_set/<split>/val/`` beside ``test_set/fg_mask/val/``.
    """

    name: str
    data_format: str
    version: int
    meta_file: str
    manifest_file: str
    journal_file: str
    train_folders: tuple
    test_splits: tuple

    @property
    def owned_entries(self) -> tuple:
        """Entries of the output folder that generation writes.

        A file in them that the journal does not list would be mixed into
        the new set, so ``overwrite=True`` refuses it; files beside them are
        never looked at.
        """
        return (*self.train_folders, 'test_set', self.manifest_file, self.meta_file)

    def files_per_folder(self, num_train: int, num_test: int) -> dict:
        """The number of files every folder of a complete set holds.

        Args:
            num_train (int): Training images.
            num_test (int): Test images (in every test split).

        Returns:
            dict: ``{folder relative to OUT_DIR: file count}``, training
            folders first, then the test splits and the test masks.
        """
        counts = {osp.join(folder, 'train'): num_train for folder in self.train_folders}
        for split in (*self.test_splits, 'fg_mask'):
            counts[osp.join('test_set', split, 'val')] = num_test
        return counts


def count_files(folder: str) -> int:
    """Number of files anywhere below ``folder`` (0 if it does not exist).

    Args:
        folder (str): Folder to count.

    Returns:
        int: The count.
    """
    return sum(len(files) for _, _, files in os.walk(folder))


def read_generated_set_meta(out_dir: str, layout: GeneratedSetLayout) -> dict | None:
    """Meta data of a complete generated set, or None if there is none.

    A set is complete when its meta file (written last) exists and every
    folder holds the number of files it lists.

    Args:
        out_dir (str): Root folder of a generated set.
        layout (GeneratedSetLayout): The kind of set to look for.

    Returns:
        dict | None: The content of the meta file.
    """
    meta_path = osp.join(out_dir, layout.meta_file)
    if not osp.isfile(meta_path):
        return None
    with open(meta_path, encoding='utf-8') as file:
        meta = json.load(file)
    if meta.get('format') != layout.data_format or 'files_per_folder' not in meta:
        return None
    for folder, count in meta['files_per_folder'].items():
        if count_files(osp.join(out_dir, folder)) != count:
            return None
    return meta


def prepare_out_dir(
    out_dir: str,
    parameters: dict,
    overwrite: bool,
    layout: GeneratedSetLayout,
    written: WrittenFiles,
) -> bool:
    """Checks ``out_dir`` and returns whether a matching set already exists.

    Args:
        out_dir (str): Output folder of a generator.
        parameters (dict): The generator's parameters, compared with those
            recorded in an existing set's meta file.
        overwrite (bool): Remove the files an earlier run recorded in its
            journal (and the folders left empty) instead of refusing a
            non-empty ``out_dir``; other files stay.
        layout (GeneratedSetLayout): The kind of set.
        written (WrittenFiles): The generator's journal in ``out_dir``.

    Returns:
        bool: True if ``out_dir`` already holds a complete set made with
        ``parameters`` (nothing to generate).

    Raises:
        OutputExistsError: If ``out_dir`` is a file; if it is not empty,
            ``overwrite`` is False and it does not hold a complete set of
            this version made with ``parameters``; or if ``overwrite`` is
            True and the folders the set writes hold files that no earlier
            run recorded (naming them).
    """
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise OutputExistsError(
            f'{out_dir} exists and is a file, not a folder for a {layout.name} set'
        )
    if not osp.isdir(out_dir) or not os.listdir(out_dir):
        return False
    if overwrite:
        written.refuse_foreign_files(layout.owned_entries)
        written.remove_recorded()
        return False
    meta = read_generated_set_meta(out_dir, layout)
    if meta is None:
        found = ', '.join(sorted(os.listdir(out_dir))[:NAMED_FILES])
        raise OutputExistsError(
            f'{out_dir} is not empty (it holds {found}) and does not hold a '
            f'complete {layout.name} set; choose an empty or new directory, or '
            'pass overwrite=True (--overwrite) to replace the files an earlier '
            f'{layout.name} run wrote there'
        )
    if meta.get('version') != layout.version:
        raise OutputExistsError(
            f'{out_dir} holds a {layout.name} set of format version '
            f'{meta.get("version")}, written by another clad_mm; this one writes '
            f'version {layout.version} (different images); pass overwrite=True '
            '(--overwrite) to regenerate it'
        )
    if meta['parameters'] != parameters:
        raise OutputExistsError(
            f'{out_dir} holds a {layout.name} set generated with '
            f'{meta["parameters"]}, not {parameters}; pass overwrite=True '
            '(--overwrite) to replace it'
        )
    return True


def finish_generated_set(
    out_dir: str,
    layout: GeneratedSetLayout,
    manifest: dict,
    meta_fields: dict,
    written: WrittenFiles,
) -> dict:
    """Writes a generated set's manifest, then its meta file, last.

    Args:
        out_dir (str): Root folder of the set, its images already written.
        layout (GeneratedSetLayout): The kind of set.
        manifest (dict): Per-split lists of image entries.
        meta_fields (dict): Meta data besides ``format`` and ``version``;
            must hold ``parameters`` and ``files_per_folder``.
        written (WrittenFiles): The generator's journal, which gets both
            files before they are written.

    Returns:
        dict: The meta data plus ``out_dir`` and ``generated=True``.
    """
    manifest_path = osp.join(out_dir, layout.manifest_file)
    meta_path = osp.join(out_dir, layout.meta_file)
    written.record([manifest_path, meta_path])
    write_json_atomically(manifest_path, manifest, indent=1)
    meta = {'format': layout.data_format, 'version': layout.version, **meta_fields}
    # Written last: its presence marks the set as complete.
    write_json_atomically(meta_path, meta, indent=2)
    return {**meta, 'out_dir': out_dir, 'generated': True}


def generate_set(
    out_dir: str,
    layout: GeneratedSetLayout,
    parameters: dict,
    overwrite: bool,
    show_progress: bool,
    progress_steps: int,
    write_images: Callable[[ProgressBar | None, ImageWriter], dict],
    meta_fields: dict,
) -> dict:
    """Generates a set, or finds an identical one already in ``out_dir``.

    Args:
        out_dir (str): Root folder to write; created if missing.
        layout (GeneratedSetLayout): The kind of set.
        parameters (dict): The generator's parameters, recorded in the meta
            file and compared with an existing set's.
        overwrite (bool): Remove what an earlier run wrote into a non-empty
            ``out_dir`` instead of refusing (see :func:`prepare_out_dir`).
        show_progress (bool): Print a progress bar with elapsed time and ETA.
        progress_steps (int): Number of ``update`` calls ``write_images``
            makes on the progress bar.
        write_images (Callable): Writes every image given the progress bar
            (or None) and an :data:`ImageWriter` (which it must use for
            every file) and returns the manifest, per-split lists of
            entries.
        meta_fields (dict): Meta data written after ``parameters`` (class
            names, image counts, ...); must hold ``num_train`` and
            ``num_test``, from which ``files_per_folder`` is derived.

    Returns:
        dict: The meta file's content plus ``out_dir`` and ``generated``
        (False when an existing set was kept).

    Raises:
        OutputExistsError: See :func:`prepare_out_dir`.
    """
    written = WrittenFiles(out_dir, layout.journal_file, layout.name)
    if prepare_out_dir(out_dir, parameters, overwrite, layout, written):
        meta = read_generated_set_meta(out_dir, layout)
        return {**meta, 'out_dir': out_dir, 'generated': False}

    def write_recorded_images(images: dict[str, np.ndarray]) -> None:
        written.record(images)
        for path, image in images.items():
            write_image_atomically(path, image)

    progress = ProgressBar(progress_steps) if show_progress else None
    manifest = write_images(progress, write_recorded_images)
    if progress:
        print()
    files_per_folder = layout.files_per_folder(
        meta_fields['num_train'], meta_fields['num_test']
    )
    return finish_generated_set(
        out_dir,
        layout,
        manifest,
        {
            'parameters': parameters,
            **meta_fields,
            'files_per_folder': files_per_folder,
        },
        written,
    )
