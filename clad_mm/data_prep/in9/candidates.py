"""The ImageNet inputs of an IN-9 build: synsets, labels and candidate images.

ImageNet-1k's class indices are the positions of its 1000 synsets (WordNet
ids) in ``LOC_synset_mapping.txt``, which equal the sorted synset folders of
a complete copy. The IN-9 label of a synset is that of its class index
(:mod:`clad_mm.datasets.categories`); every image of a mapped synset is a
candidate, with its Pascal-VOC bounding-box XML if it has one.
"""

import os
import os.path as osp
import re
from collections import Counter
from collections.abc import Sequence

from clad_mm.datasets.categories import (
    NUM_IMAGENET_CLASSES,
    UNMAPPED,
    imagenet_to_in9_labels,
)
from clad_mm.datasets.folder_layout import IMAGE_EXTENSIONS, list_stems, require_dir
from clad_mm.utils.errors import UserError

_WNID = re.compile(r'^n\d{8}$')


def read_synset_order(path: str) -> list[str]:
    """Reads the 1000 ImageNet synsets in class-index order.

    Accepts ``LOC_synset_mapping.txt`` (``n01440764 tench, Tinca tinca`` per
    line) or one WordNet id per line; blank lines are ignored.

    Args:
        path (str): The synsets file.

    Returns:
        list[str]: The WordNet ids; entry ``i`` is ImageNet class ``i``.

    Raises:
        ValueError: Naming the file and line, if a line does not start with a
            WordNet id (``n`` and 8 digits), an id repeats, or the file does
            not list exactly 1000 synsets.
    """
    synsets = []
    with open(path, encoding='utf-8') as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            wnid = line.split()[0]
            if not _WNID.match(wnid):
                raise UserError(
                    f'{path}, line {number}: expected a WordNet id such as '
                    f"'n01440764' at the start of the line, got {line.strip()!r}"
                )
            synsets.append(wnid)
    _require_imagenet_synsets(synsets, path)
    return synsets


def synset_order_from_folders(imagenet_root: str) -> list[str]:
    """The sorted synset folders of an ImageNet training root.

    Args:
        imagenet_root (str): Folder holding one ``<wnid>/`` folder per class.

    Returns:
        list[str]: The 1000 folder names, sorted (ImageNet's class order).

    Raises:
        ValueError: If the root does not hold exactly 1000 synset folders.
    """
    require_dir(imagenet_root, 'the ImageNet train folder with <wnid>/ folders')
    with os.scandir(imagenet_root) as entries:
        folders = sorted(entry.name for entry in entries if entry.is_dir())
    synsets = [name for name in folders if _WNID.match(name)]
    if len(synsets) != NUM_IMAGENET_CLASSES:
        raise UserError(
            f'{imagenet_root} holds {len(synsets)} synset folders, not '
            f'{NUM_IMAGENET_CLASSES}, so their sorted order cannot give the '
            'ImageNet class indices; pass --synsets LOC_synset_mapping.txt '
            '(the 1000 synsets in class order)'
        )
    return synsets


def _require_imagenet_synsets(synsets: Sequence[str], source: str) -> None:
    repeated = sorted(wnid for wnid, count in Counter(synsets).items() if count > 1)
    if repeated:
        raise UserError(f'{source} lists synsets more than once: {repeated[:5]}')
    if len(synsets) != NUM_IMAGENET_CLASSES:
        raise UserError(
            f'{source} lists {len(synsets)} synsets; expected the '
            f'{NUM_IMAGENET_CLASSES} ImageNet-1k synsets in class order'
        )


def in9_synset_labels(synsets: Sequence[str]) -> dict[str, int]:
    """IN-9 label of every synset that belongs to an IN-9 class.

    Args:
        synsets (Sequence[str]): The 1000 synsets in ImageNet class order.

    Returns:
        dict[str, int]: ``{wnid: IN-9 label}`` for the 370 mapped synsets.
    """
    _require_imagenet_synsets(synsets, 'the synset order')
    labels = imagenet_to_in9_labels()
    return {wnid: label for wnid, label in zip(synsets, labels) if label != UNMAPPED}


def list_candidates(
    imagenet_root: str, bbox_root: str, synset_labels: dict[str, int]
) -> tuple[list[dict], list[str]]:
    """Lists the images of the mapped synsets with their annotations.

    Only the folders of mapped synsets are listed; a mapped synset without
    a folder (a partial ImageNet copy) is returned, for the report, rather
    than raising: each class must still have enough kept images later on.
    An image's XML is
    ``BBOX_ROOT/<wnid>/<stem>.xml``, or ``BBOX_ROOT/<stem>.xml`` for a
    synset without its own folder there.

    Args:
        imagenet_root (str): ImageNet train folder, ``<wnid>/<stem>.JPEG``.
        bbox_root (str): Folder of the Pascal-VOC XMLs.
        synset_labels (dict[str, int]): ``{wnid: IN-9 label}``.

    Returns:
        tuple[list[dict], list[str]]: The candidates, each with ``key``,
        ``wnid``, ``stem``, ``label``, ``image_path`` and ``xml_path`` (None
        without annotation), synset by synset in sorted stem order; and the
        mapped synsets without a folder in ``imagenet_root``.

    Raises:
        FileNotFoundError: If a root is missing.
    """
    require_dir(imagenet_root, 'the ImageNet train folder with <wnid>/ folders')
    require_dir(bbox_root, 'bounding-box XMLs as <wnid>/<stem>.xml or <stem>.xml')
    missing = [
        wnid for wnid in synset_labels if not osp.isdir(osp.join(imagenet_root, wnid))
    ]
    flat_xmls = None
    candidates = []
    for wnid in sorted(set(synset_labels) - set(missing)):
        xml_dir = osp.join(bbox_root, wnid)
        if osp.isdir(xml_dir):
            with os.scandir(xml_dir) as entries:
                xmls = {entry.name for entry in entries}
        else:
            if flat_xmls is None:
                with os.scandir(bbox_root) as entries:
                    flat_xmls = {entry.name for entry in entries if entry.is_file()}
            xml_dir, xmls = bbox_root, flat_xmls
        image_dir = osp.join(imagenet_root, wnid)
        for stem, name in sorted(list_stems(image_dir, IMAGE_EXTENSIONS).items()):
            xml_name = f'{stem}.xml'
            candidates.append(
                dict(
                    key=f'{wnid}/{stem}',
                    wnid=wnid,
                    stem=stem,
                    label=synset_labels[wnid],
                    image_path=osp.join(image_dir, name),
                    xml_path=osp.join(xml_dir, xml_name) if xml_name in xmls else None,
                )
            )
    return candidates, sorted(missing)
