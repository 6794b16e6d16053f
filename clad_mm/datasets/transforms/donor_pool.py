"""Folders of donor images that CLAD-style transforms draw from.

CLAD (Wang et al., `CLAD: A Contrastive Learning based Approach for Background
Debiasing <https://arxiv.org/abs/2210.02748>`_, BMVC 2022) and its texture
variant S-CLAD build a positive from the anchor and a donor image of another
class: a background (:class:`BackgroundSwap`), a texture
(:class:`TextureSwap`) or an AdaIN style image (:class:`LoadStyleImage`).
:class:`DonorPool` lists such a folder once, draws donors from it and reads
them; the transforms only keep their own random draws (``cache_randomness``)
and pixel work.
"""

import os
import os.path as osp

import cv2
import numpy as np

from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.fileio import read_image

from ..folder_layout import (
    IMAGE_EXTENSIONS,
    list_class_folders,
    list_stems,
    require_dir,
)

#: How a donor is chosen: ``'other_class'`` draws from class folders, a class
#: other than the anchor's; ``'random'`` draws any image under the root.
DONOR_CHOICES = ('other_class', 'random')
#: Label of a donor drawn in ``'random'`` mode, which has no class.
UNLABELLED_DONOR = -1


class DonorPool:
    """A folder of donor images, labelled by class folder or unlabelled.

    - ``'other_class'``: ``root`` holds ``<class>/<stem>.<ext>`` images. A
      donor's label is the index of its class folder in sorted order, as for
      the datasets' labels, so the pool must hold the dataset's class
      folders (:meth:`check_anchor_label` catches pools that do not). A
      draw picks a class uniformly among the classes other than the
      anchor's, directly (never a rejection loop, which the authors' code
      runs forever on a batch of one class), then an image of it uniformly.
    - ``'random'``: any image found under ``root``, recursively (entries
      starting with a dot are skipped); every donor's label is
      ``UNLABELLED_DONOR`` (-1).

    Draws use numpy's global generator, like mmcv's transforms, so
    mmengine's per-worker seeding makes them reproducible.

    Args:
        root (str): The pool folder.
        choice (str): ``'other_class'`` or ``'random'``.
        kind (str): What the donors are (``'background'``, ``'texture'``,
            ``'style'``), used in error messages.

    Attributes:
        class_folders (tuple[str]): The class folders in label order (empty
            in ``'random'`` mode).
        donor_paths (list[list[str]]): Donor files per label; one list, the
            whole pool, in ``'random'`` mode.

    Raises:
        FileNotFoundError: If ``root`` is missing, or holds no class folder
            (``'other_class'``), an empty class folder or no image
            (``'random'``).
        ValueError: If ``choice`` is unknown, the ``'other_class'`` pool has
            fewer than two classes, or a class folder holds a non-image.
    """

    def __init__(self, root: str, choice: str, kind: str):
        if choice not in DONOR_CHOICES:
            raise UserError(
                f'{kind}_choice must be one of {DONOR_CHOICES}, got {choice!r}'
            )
        self.root = root
        self.choice = choice
        self.kind = kind
        if choice == 'other_class':
            self.class_folders, self.donor_paths = _list_class_pool(root, kind)
        else:
            self.class_folders = ()
            self.donor_paths = [_list_unlabelled_pool(root, kind)]
        self._label_of_folder = {
            folder: label for label, folder in enumerate(self.class_folders)
        }

    def __len__(self) -> int:
        return sum(map(len, self.donor_paths))

    def check_anchor_label(self, image_path: str | None, label: int) -> None:
        """Raises unless ``label`` is the anchor's class in this pool.

        A pool whose class folders differ from the dataset's would mislabel
        donors silently: this catches a label beyond the pool's classes, and
        an anchor stored in a folder named like a pool class of another
        index.

        Args:
            image_path (str | None): The anchor's file, if known.
            label (int): The anchor's ``gt_label``.

        Raises:
            ValueError: Naming the anchor, the pool and the mismatch.
        """
        if not 0 <= label < len(self.class_folders):
            raise UserError(
                f'gt_label {label} of {image_path} is not a class of the '
                f'{self.kind} pool {self.root}, which has '
                f'{len(self.class_folders)} class folders: the pool must hold '
                'the same class folders as the dataset'
            )
        if image_path is None:
            return
        folder = osp.basename(osp.dirname(image_path))
        pool_label = self._label_of_folder.get(folder, label)
        if pool_label != label:
            raise UserError(
                f'{image_path} has gt_label {label} but its class folder '
                f'{folder!r} is class {pool_label} of the {self.kind} pool '
                f'{self.root}: the pool must hold the same class folders as '
                'the dataset'
            )

    def draw(self, anchor_label: int | None = None) -> tuple[int, str]:
        """Draws a donor.

        Args:
            anchor_label (int, optional): The anchor's class; required in
                ``'other_class'`` mode, ignored in ``'random'`` mode.

        Returns:
            tuple[int, str]: The donor's label (never ``anchor_label``; -1
            in ``'random'`` mode) and its file.
        """
        if self.choice == 'random':
            return UNLABELLED_DONOR, self._draw_path(self.donor_paths[0])
        # Draw among the other classes directly: skip over the anchor's.
        other = int(np.random.randint(len(self.class_folders) - 1))
        label = other + (other >= anchor_label)
        return label, self._draw_path(self.donor_paths[label])

    @staticmethod
    def _draw_path(paths: list[str]) -> str:
        return paths[np.random.randint(len(paths))]

    def read_as_stored(self, path: str) -> np.ndarray:
        """Reads a donor as a BGR image of its own size (uint8).

        Raises:
            ValueError: Naming the file and the donor kind, if it is missing
                or cannot be decoded.
        """
        try:
            return read_image(path)
        except ValueError as error:
            raise UserError(f'{self.kind} donor {error}') from None

    def read(self, path: str, height: int, width: int, dtype) -> np.ndarray:
        """Reads a donor as a BGR image of the given size and dtype.

        The file is decoded by :func:`clad_mm.utils.fileio.read_image` (BGR
        like ``LoadImageFromFile``'s default) and, if its size differs,
        resized with ``cv2.resize`` (bilinear, aspect ratio not kept).
        Donors are not cached: draws are uniform over the whole pool, so a
        cache of C images over a pool of N hits with probability C/N, which
        is negligible for ImageNet-9's 45 405 training images.

        Args:
            path (str): The donor file.
            height (int): Height to return.
            width (int): Width to return.
            dtype: Dtype to return (that of the anchor).

        Returns:
            np.ndarray: ``height``×``width``×3 BGR image.

        Raises:
            ValueError: Naming the file and the donor kind, if it is missing
                or cannot be decoded.
        """
        donor = self.read_as_stored(path)
        if donor.shape[:2] != (height, width):
            donor = cv2.resize(donor, (width, height), interpolation=cv2.INTER_LINEAR)
        return donor.astype(dtype, copy=False)


class DonorSource:
    """The :class:`DonorPool` of a transform: a given folder or the dataset's.

    With a ``root``, the pool is listed at once, so that a wrong path fails
    when the pipeline is built. Without one, it is the folder ``folder`` of
    the sample's own training set (see :func:`dataset_folder`), listed at
    the first sample and again only if a sample names another folder.

    Args:
        root (str, optional): The pool folder; None for the dataset's.
        folder (str): The dataset's folder of donors, e.g. ``'only_bg_t'``.
        choice (str): ``'other_class'`` or ``'random'``.
        kind (str): What the donors are, used in messages.
        transform (str): The transform that draws from the pool.
    """

    def __init__(
        self, root: str | None, folder: str, choice: str, kind: str, transform: str
    ):
        if choice not in DONOR_CHOICES:
            raise UserError(
                f'{kind}_choice must be one of {DONOR_CHOICES}, got {choice!r}'
            )
        self.root = root
        self.folder = folder
        self.choice = choice
        self.kind = kind
        self.transform = transform
        self._pool = None if root is None else DonorPool(root, choice, kind)

    @property
    def listed(self) -> DonorPool:
        """The pool last used (the given folder's from the start).

        Raises:
            RuntimeError: If the pool follows the dataset and no sample has
                been transformed yet.
        """
        if self._pool is None:
            raise RuntimeError(
                f'{self.transform} takes its {self.kind} pool from the '
                f"dataset ({self.folder}/ of the sample's data_root): it is "
                'listed at the first sample'
            )
        return self._pool

    def pool_for(self, results: dict) -> DonorPool:
        """The pool to draw the donor of one sample from.

        Args:
            results (dict): The sample's result dict (with ``data_root`` and
                ``split`` when the pool follows the dataset).

        Returns:
            DonorPool: The listed pool.
        """
        if self.root is not None:
            return self._pool
        root = dataset_folder(results, self.folder, self.transform)
        if self._pool is None or self._pool.root != root:
            self._pool = DonorPool(root, self.choice, self.kind)
        return self._pool

    def describe(self) -> str:
        """The pool for a ``__repr__``: its size, or the dataset's folder."""
        if self.root is None:
            return f"the dataset's {self.folder}/"
        return f'{len(self._pool)} images'


def dataset_folder(results: dict, folder: str, transform: str) -> str:
    """``<data_root>/<folder>/<split>`` of the dataset a sample comes from.

    :class:`BGChallengeTrainDataset` records its ``data_root`` and ``split``
    in every sample, so that a transform whose donor pool is a folder of the
    training set follows ``--cfg-options train_dataloader.dataset.data_root``
    instead of keeping a path written into the config.

    Args:
        results (dict): A transform's result dict, with ``data_root`` and
            ``split``.
        folder (str): The folder of the data root, e.g. ``'only_bg_t'``.
        transform (str): The transform that needs the folder, for messages.

    Returns:
        str: The folder's path for the sample's split.

    Raises:
        UserError: If the sample has no ``data_root`` or ``split``.
    """
    provider = 'BGChallengeTrainDataset; or give the transform its pool folder'
    data_root = require_result(results, 'data_root', provider, transform)
    split = require_result(results, 'split', provider, transform)
    return osp.join(data_root, folder, split)


def require_result(results: dict, key: str, provider: str, transform: str):
    """Returns ``results[key]``, or raises a KeyError saying who adds it.

    Args:
        results (dict): A transform's result dict.
        key (str): The required key.
        provider (str): The transform (or dataset) that adds the key.
        transform (str): The transform that needs the key.

    Returns:
        The value of ``key``.

    Raises:
        UserError: Naming the key, its provider and the keys present.
    """
    if key not in results:
        raise UserError(
            f'{transform} needs {key!r} in the results (added by '
            f'{provider}); got keys {sorted(results)}'
        )
    return results[key]


def _list_class_pool(root: str, kind: str) -> tuple[tuple[str, ...], list[list[str]]]:
    require_dir(root, f'<class>/<stem>.<ext> {kind} images')
    folders = list_class_folders(root)
    if len(folders) < 2:
        raise UserError(
            f'The {kind} pool {root} holds {len(folders)} class folder '
            f'({folders}); a {kind} of another class than the anchor '
            'needs at least two'
        )
    paths = []
    for folder in folders:
        class_dir = osp.join(root, folder)
        names = list_stems(class_dir, IMAGE_EXTENSIONS).values()
        paths.append([osp.join(class_dir, name) for name in sorted(names)])
    return tuple(folders), paths


def _list_unlabelled_pool(root: str, kind: str) -> list[str]:
    require_dir(root, f'{kind} images (searched recursively)')
    paths = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            name for name in subdirectories if not name.startswith('.')
        )
        paths.extend(
            osp.join(directory, name)
            for name in sorted(files)
            if not name.startswith('.')
            and osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        )
    if not paths:
        raise MissingFileError(
            f'{root} holds no {kind} image with an extension in '
            f'{IMAGE_EXTENSIONS} (searched recursively)'
        )
    return paths
