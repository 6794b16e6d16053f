"""Pairs of ORIGINAL and MIXED-RAND images that show the same foreground.

The consistency of CLAD's Table 3 (:mod:`.metric`) compares a model's
feature and decision on an image and on its MIXED-RAND version (the same
foreground on a random class's background). Pairs are found in two ways.
The Background Challenge release (and SynBG) names a MIXED-RAND image after
the ORIGINAL image whose foreground it shows, in the foreground's class
folder, so pairs match **by stem**. Where names do not match, a MIXED-RAND
image is paired **by composition**: with the ORIGINAL image of its class
folder whose foreground (mask and the pixels inside it) it contains. Images
that find no partner are returned, never dropped.
"""

import os.path as osp
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.datasets.folder_layout import MASK_EXTENSIONS, list_stems
from clad_mm.datasets.transforms.load_foreground_mask import LoadForegroundMask
from clad_mm.utils.errors import UserError
from clad_mm.utils.fileio import read_image

#: Side of the grid on which foregrounds are compared (see
#: :func:`foreground_cells`).
DEFAULT_GRID_SIZE = 32
#: Mask pixels this close to the mask's edge are left out of the comparison.
DEFAULT_EDGE_MARGIN = 1
#: Largest mean absolute difference (0-255 grey levels, over interior cells
#: and channels) between a composite and the ORIGINAL whose foreground it
#: holds. Measured on SynBG's mixed splits (JPEG quality 95), true pairs
#: score at most 3.5 at 64 px (675 images per split) and 7.3 at 32 px; a
#: composite never scores below 7.4 (64 px) or 20.7 (32 px) with another
#: image of its class. There the closest image was always the right one; the
#: tolerance only rejects composites that hold none of the foregrounds, and
#: a composite whose ORIGINAL is missing may still pair with a look-alike
#: (so each pair keeps its ``match_score``).
DEFAULT_MATCH_TOLERANCE = 10.0
# Share of a grid cell that must be foreground for the cell to be compared;
# below 1 the cell's average mixes in background pixels.
_INTERIOR_COVERAGE = 0.999


@dataclass
class ImagePair:
    """A reference image and its counterpart showing the same foreground.

    Attributes:
        reference (int): Index into the reference (ORIGINAL) images.
        counterpart (int): Index into the counterpart (MIXED-RAND) images.
        method (str): ``'stem'`` or ``'composition'``.
        match_score (float, optional): For ``'composition'``: the mean
            absolute difference inside the foreground, in grey levels.
    """

    reference: int
    counterpart: int
    method: str
    match_score: float | None = None


@dataclass
class UnmatchedCounterpart:
    """A counterpart image without a reference partner, and why.

    Attributes:
        counterpart (int): Index into the counterpart images.
        reason (str): Why no partner was found.
        best_reference (int, optional): The closest reference image found by
            composition, if any was compared.
        best_score (float, optional): Its match score.
    """

    counterpart: int
    reason: str
    best_reference: int | None = None
    best_score: float | None = None


@dataclass
class SplitPairing:
    """Pairs between two splits and the images of each left without one.

    Attributes:
        pairs (list[ImagePair]): Sorted by reference index.
        unmatched_references (list[int]): Reference images in no pair.
        unmatched_counterparts (list[UnmatchedCounterpart]): Counterpart
            images in no pair, with the reason.
    """

    pairs: list = field(default_factory=list)
    unmatched_references: list = field(default_factory=list)
    unmatched_counterparts: list = field(default_factory=list)

    def count_by_method(self) -> dict:
        """Number of pairs found by each method, e.g. ``{'stem': 4050}``."""
        counts = {}
        for pair in self.pairs:
            counts[pair.method] = counts.get(pair.method, 0) + 1
        return counts


def _class_and_stem(info: dict) -> tuple:
    stem = osp.splitext(osp.basename(info['img_path']))[0]
    return int(info['gt_label']), stem


def pair_by_stem(
    reference_infos: Sequence[dict], counterpart_infos: Sequence[dict]
) -> SplitPairing:
    """Pairs images with the same class and file stem.

    Args:
        reference_infos (Sequence[dict]): Data infos (``img_path``,
            ``gt_label``) of the reference split, as
            :class:`BGChallengeTestDataset` lists them.
        counterpart_infos (Sequence[dict]): Data infos of the other split.

    Returns:
        SplitPairing: Pairs by stem; every other image is unmatched.
    """
    reference_index = {
        _class_and_stem(info): index for index, info in enumerate(reference_infos)
    }
    pairing = SplitPairing()
    paired_references = set()
    for index, info in enumerate(counterpart_infos):
        reference = reference_index.get(_class_and_stem(info))
        if reference is None:
            pairing.unmatched_counterparts.append(
                UnmatchedCounterpart(
                    index, 'no reference image with this class and stem'
                )
            )
        else:
            pairing.pairs.append(ImagePair(reference, index, 'stem'))
            paired_references.add(reference)
    pairing.pairs.sort(key=lambda pair: pair.reference)
    pairing.unmatched_references = sorted(
        set(range(len(reference_infos))) - paired_references
    )
    return pairing


def _grid_average(image: np.ndarray, grid_size: int) -> np.ndarray:
    # INTER_AREA averages whole source pixels into each cell, so a cell fully
    # inside the foreground holds an average of foreground pixels only.
    return cv2.resize(
        image.astype(np.float32), (grid_size, grid_size), interpolation=cv2.INTER_AREA
    )


def foreground_cells(
    image: np.ndarray,
    mask: np.ndarray,
    grid_size: int = DEFAULT_GRID_SIZE,
    edge_margin: int = DEFAULT_EDGE_MARGIN,
) -> tuple:
    """An image averaged on a grid, and the grid cells inside its foreground.

    Comparing cell averages instead of pixels makes the comparison of two
    images cheap and averages out JPEG noise; leaving out mask pixels within
    ``edge_margin`` of the edge drops the JPEG bleeding of the background
    into the foreground. A cell is *interior* when every pixel under it is
    such a foreground pixel. When the margin leaves no interior cell (a
    thin object), the whole mask is used.

    Args:
        image (np.ndarray): H x W x C image.
        mask (np.ndarray): H x W mask; non-zero pixels are the foreground.
        grid_size (int): Side of the grid.
        edge_margin (int): Foreground pixels to drop along the mask's edge.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``grid_size`` x ``grid_size`` x C
        float32 cell averages and ``grid_size`` x ``grid_size`` bool
        interior cells (possibly none).
    """
    if image.shape[:2] != mask.shape:
        raise UserError(
            f'image {image.shape} and mask {mask.shape} differ in height or width'
        )
    mask = (mask != 0).astype(np.uint8)
    kept = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=edge_margin)
    interior = _grid_average(kept, grid_size) >= _INTERIOR_COVERAGE
    if not interior.any():
        interior = _grid_average(mask, grid_size) >= _INTERIOR_COVERAGE
    return _grid_average(image, grid_size), interior


def composition_scores(
    composite_cells: np.ndarray,
    reference_cells: np.ndarray,
    reference_interiors: np.ndarray,
) -> np.ndarray:
    """How far each composite is from holding each reference's foreground.

    Args:
        composite_cells (np.ndarray): M x G x G x C cell averages of the
            composites (:func:`foreground_cells`' first output; composites
            need no mask).
        reference_cells (np.ndarray): K x G x G x C cell averages of the
            reference images.
        reference_interiors (np.ndarray): K x G x G bool interior cells of
            the references' foregrounds.

    Returns:
        np.ndarray: M x K mean absolute difference over the reference's
        interior cells and the channels, in the images' units; ``inf`` where
        the reference has no interior cell.
    """
    weights = reference_interiors.astype(np.float32)
    cell_counts = weights.sum(axis=(1, 2))
    scores = np.full((len(composite_cells), len(reference_cells)), np.inf)
    comparable = cell_counts > 0
    for row, cells in enumerate(composite_cells):
        differences = np.abs(reference_cells[comparable] - cells).mean(axis=-1)
        scores[row, comparable] = (differences * weights[comparable]).sum(
            axis=(1, 2)
        ) / cell_counts[comparable]
    return scores


def _read_mask(image: np.ndarray, mask_path: str) -> np.ndarray:
    results = dict(img=image, fg_mask_path=mask_path, fg_mask_source='mask')
    return LoadForegroundMask().transform(results)['fg_mask']


def pair_by_composition(
    reference_infos: Sequence[dict],
    counterpart_infos: Sequence[dict],
    mask_paths: dict,
    counterparts: Sequence[int] | None = None,
    tolerance: float = DEFAULT_MATCH_TOLERANCE,
    grid_size: int = DEFAULT_GRID_SIZE,
    edge_margin: int = DEFAULT_EDGE_MARGIN,
    show_progress: bool = False,
) -> tuple:
    """Pairs composites with the reference image whose foreground they hold.

    A counterpart image of class ``y`` is compared with every reference
    image of class ``y`` that has a mask (:func:`composition_scores`); the
    closest one is its partner if its score is at most ``tolerance``.
    Several counterparts may pick the same reference (e.g. MIXED-SAME and
    MIXED-RAND versions of one image).

    Args:
        reference_infos (Sequence[dict]): Data infos (``img_path``,
            ``gt_label``) of the reference split.
        counterpart_infos (Sequence[dict]): Data infos of the composites.
        mask_paths (dict[int, str]): Foreground mask file (``.npy`` or
            image) of each reference index that has one.
        counterparts (Sequence[int], optional): Counterpart indices to pair;
            all by default.
        tolerance (float): Largest accepted score, in grey levels.
        grid_size (int): See :func:`foreground_cells`.
        edge_margin (int): See :func:`foreground_cells`.
        show_progress (bool): Show a progress bar with ETA over the
            counterparts.

    Returns:
        tuple[list[ImagePair], list[UnmatchedCounterpart]]: Pairs found and
        the counterparts left without one.

    Raises:
        ValueError: Naming the file, if an image cannot be read or a mask
            is not a binary mask of its image's size.
    """
    if counterparts is None:
        counterparts = range(len(counterpart_infos))
    candidates_by_class = {}
    for reference in sorted(mask_paths):
        label = int(reference_infos[reference]['gt_label'])
        candidates_by_class.setdefault(label, []).append(reference)

    cells_by_class = {}
    pairs, unmatched = [], []
    progress = ProgressBar(len(counterparts)) if show_progress else None
    for index in counterparts:
        label = int(counterpart_infos[index]['gt_label'])
        candidates = candidates_by_class.get(label)
        if candidates and label not in cells_by_class:
            cells_by_class[label] = _reference_cells(
                reference_infos, candidates, mask_paths, grid_size, edge_margin
            )
        match = _match_composite(
            index,
            counterpart_infos[index]['img_path'],
            candidates,
            cells_by_class.get(label),
            tolerance,
            grid_size,
        )
        (pairs if isinstance(match, ImagePair) else unmatched).append(match)
        if progress is not None:
            progress.update()
    if progress is not None:
        print()
    return pairs, unmatched


def _match_composite(index, path, candidates, candidate_cells, tolerance, grid_size):
    """An :class:`ImagePair` or :class:`UnmatchedCounterpart` for one image."""
    if not candidates:
        return UnmatchedCounterpart(index, 'no reference image of its class has a mask')
    reference_cells, interiors = candidate_cells
    composite_cells = _grid_average(read_image(path), grid_size)[None]
    scores = composition_scores(composite_cells, reference_cells, interiors)[0]
    best = int(np.argmin(scores))
    best_score = float(scores[best])
    if not np.isfinite(best_score):
        return UnmatchedCounterpart(index, 'no reference foreground could be compared')
    if best_score > tolerance:
        return UnmatchedCounterpart(
            index,
            f'no reference foreground within tolerance {tolerance}',
            candidates[best],
            best_score,
        )
    return ImagePair(candidates[best], index, 'composition', best_score)


def _reference_cells(reference_infos, candidates, mask_paths, grid_size, edge_margin):
    cells, interiors = [], []
    for reference in candidates:
        image = read_image(reference_infos[reference]['img_path'])
        mask = _read_mask(image, mask_paths[reference])
        reference_cells, interior = foreground_cells(
            image, mask, grid_size, edge_margin
        )
        cells.append(reference_cells)
        interiors.append(interior)
    return np.stack(cells), np.stack(interiors)


PAIRING_METHODS = ('auto', 'stem', 'composition')


def pair_splits(
    reference_infos: Sequence[dict],
    counterpart_infos: Sequence[dict],
    mask_paths: dict | None = None,
    method: str = 'auto',
    tolerance: float = DEFAULT_MATCH_TOLERANCE,
    grid_size: int = DEFAULT_GRID_SIZE,
    edge_margin: int = DEFAULT_EDGE_MARGIN,
    show_progress: bool = False,
) -> SplitPairing:
    """Pairs the images of two splits that show the same foreground.

    Args:
        reference_infos (Sequence[dict]): Data infos (``img_path``,
            ``gt_label``) of the reference split (ORIGINAL).
        counterpart_infos (Sequence[dict]): Data infos of the composites
            (MIXED-RAND).
        mask_paths (dict[int, str], optional): Mask file of each reference
            index that has one; needed by composition.
        method (str): ``'stem'``, ``'composition'``, or ``'auto'``: by stem,
            then by composition for the counterparts left over (against
            every reference of their class) when masks are given.
        tolerance (float): See :func:`pair_by_composition`.
        grid_size (int): See :func:`foreground_cells`.
        edge_margin (int): See :func:`foreground_cells`.
        show_progress (bool): Show a progress bar while pairing by
            composition.

    Returns:
        SplitPairing: The pairs and the unmatched images of both splits.
    """
    if method not in PAIRING_METHODS:
        raise UserError(f'method must be one of {PAIRING_METHODS}, got {method!r}')
    if method == 'composition' and not mask_paths:
        raise UserError(
            'pairing by composition needs the foreground masks of the reference images'
        )
    if method == 'composition':
        pairing = SplitPairing()
        leftovers = range(len(counterpart_infos))
    else:
        pairing = pair_by_stem(reference_infos, counterpart_infos)
        leftovers = [item.counterpart for item in pairing.unmatched_counterparts]
    if method != 'stem' and mask_paths and leftovers:
        pairs, unmatched = pair_by_composition(
            reference_infos,
            counterpart_infos,
            mask_paths,
            leftovers,
            tolerance,
            grid_size,
            edge_margin,
            show_progress,
        )
        pairing.pairs = sorted(
            pairing.pairs + pairs, key=lambda pair: (pair.reference, pair.counterpart)
        )
        pairing.unmatched_counterparts = unmatched
    paired = {pair.reference for pair in pairing.pairs}
    pairing.unmatched_references = [
        index for index in range(len(reference_infos)) if index not in paired
    ]
    return pairing


def reference_mask_paths(
    mask_root: str, reference_infos: Sequence[dict], class_folders: Sequence[str]
) -> dict:
    """Finds the foreground mask of each reference image, where it exists.

    Masks are named like the reference images, as in the Background
    Challenge release: ``<mask_root>/<class folder>/<stem>.npy`` (or an
    image such as ``.png``).

    Args:
        mask_root (str): E.g. ``<test root>/fg_mask/val``.
        reference_infos (Sequence[dict]): Data infos (``img_path``,
            ``gt_label``) of the reference images.
        class_folders (Sequence[str]): Class folder of each label.

    Returns:
        dict[int, str]: Mask path by reference index; empty if ``mask_root``
        does not exist.
    """
    if not osp.isdir(mask_root):
        return {}
    masks_by_folder = {
        folder: list_stems(osp.join(mask_root, folder), MASK_EXTENSIONS)
        for folder in class_folders
        if osp.isdir(osp.join(mask_root, folder))
    }
    paths = {}
    for index, info in enumerate(reference_infos):
        label, stem = _class_and_stem(info)
        folder = class_folders[label]
        name = masks_by_folder.get(folder, {}).get(stem)
        if name is not None:
            paths[index] = osp.join(mask_root, folder, name)
    return paths
