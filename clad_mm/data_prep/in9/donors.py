"""Background donors of the mixed views of IN-9.

A mixed view pastes an image's object (its GrabCut mask) at its own place on
the ONLY-BG-T of a donor, as the Background Challenge builds its MIXED
splits: a random other image of the same class (MIXED-SAME), of any class
(MIXED-RAND) or of class ``(y + 1) mod 9`` (MIXED-NEXT), drawn within the
same subset. The training set has MIXED-RAND only (CLAD's training views);
the validation set has all three, as the test release.
"""

from collections.abc import Sequence

import numpy as np

from clad_mm.datasets.categories import IN9_CLASSES
from clad_mm.utils.fileio import read_image

from ..masks.foreground_masks import fill_box_with_background_tiles
from .selection import resize_and_center_crop

#: Mixed views of each subset.
MIXED_VIEWS = {
    'train': ('mixed_rand',),
    'val': ('mixed_same', 'mixed_rand', 'mixed_next'),
}
# Random streams of the donor draws of each subset (the subset draw is 0).
_DONOR_STREAMS = {'val': 1, 'train': 2}


def draw_subset_donors(
    keys_by_label: dict[int, list[str]], subset: str, seed: int
) -> dict[str, dict[str, str]]:
    """Draws the donors of every mixed view of one subset.

    Args:
        keys_by_label (dict[int, list[str]]): The subset's image keys by
            label, sorted.
        subset (str): ``'train'`` or ``'val'``; picks the mixed views
            (:data:`MIXED_VIEWS`) and the random stream.
        seed (int): Seed of the build.

    Returns:
        dict[str, dict[str, str]]: ``{key: {mixed view: donor key}}``.
    """
    rng = np.random.default_rng([seed, _DONOR_STREAMS[subset]])
    return draw_donors(keys_by_label, MIXED_VIEWS[subset], rng)


def draw_donors(
    keys_by_label: dict[int, list[str]], splits: Sequence[str], rng
) -> dict[str, dict[str, str]]:
    """Draws the background donor of every image for each mixed view.

    A donor is never the image itself: MIXED-SAME takes another image of the
    same class, MIXED-RAND any other image, MIXED-NEXT an image of class
    ``(y + 1) mod 9``.

    Args:
        keys_by_label (dict[int, list[str]]): Image keys by label.
        splits (Sequence[str]): Mixed views to draw for.
        rng (np.random.Generator): Source of the draws.

    Returns:
        dict[str, dict[str, str]]: ``{key: {split: donor key}}``.
    """
    everything = [
        key for label in sorted(keys_by_label) for key in keys_by_label[label]
    ]
    position = {key: index for index, key in enumerate(everything)}
    donors = {}
    for label in sorted(keys_by_label):
        same = keys_by_label[label]
        following = keys_by_label[(label + 1) % len(IN9_CLASSES)]
        for index, key in enumerate(same):
            donors[key] = {}
            for split in splits:
                if split == 'mixed_same':
                    donor = same[_draw_other(rng, len(same), index)]
                elif split == 'mixed_rand':
                    donor = everything[_draw_other(rng, len(everything), position[key])]
                else:
                    donor = following[int(rng.integers(len(following)))]
                donors[key][split] = donor
    return donors


def _draw_other(rng, count: int, excluded: int) -> int:
    drawn = int(rng.integers(count - 1))
    return drawn + 1 if drawn >= excluded else drawn


def donor_background(donor_path: str, donor_box) -> np.ndarray:
    """The ONLY-BG-T of a donor: its 224 px crop with the box tiled over.

    Args:
        donor_path (str): The donor's ImageNet image.
        donor_box (Sequence[int]): The donor's box in crop coordinates.

    Returns:
        np.ndarray: 224 x 224 x 3 BGR background.

    Raises:
        ValueError: Naming the file, if the donor cannot be read.
    """
    donor = resize_and_center_crop(read_image(donor_path))
    return fill_box_with_background_tiles(donor, donor_box)
