"""Test roots and predictors shared by the adversarial-background tests."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest

from clad_mm.analysis.adversarial_backgrounds.challenge_set import (
    list_backgrounds,
    list_foregrounds,
    make_image_loader,
)
from clad_mm.data_prep.synthetic.synbg import generate_synbg

SYNBG_PER_CLASS = 2


@pytest.fixture(scope='module')
def synbg_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('adversarial') / 'synbg'
    generate_synbg(
        str(root),
        image_size=32,
        train_per_class=2,
        test_per_class=SYNBG_PER_CLASS,
        seed=3,
        show_progress=False,
    )
    return str(root / 'test_set')


@pytest.fixture(scope='module')
def synbg(synbg_root):
    foregrounds, classes = list_foregrounds(synbg_root)
    return foregrounds, list_backgrounds(synbg_root), classes


@pytest.fixture
def make_oracle():
    """Makes predict() callables that find which foreground a composite shows."""
    return oracle


def oracle(foregrounds, seen=None):
    """A predict() that finds which foreground's pixels a composite shows."""
    load_image = make_image_loader()
    cut_outs = []
    for foreground in foregrounds:
        mask = np.load(foreground.mask_path).astype(bool)
        cut_outs.append((foreground, mask, load_image(foreground.image_path)[mask]))

    def predict(composites):
        labels = []
        for composite in composites:
            (match,) = [
                foreground
                for foreground, mask, pixels in cut_outs
                if np.array_equal(composite[mask], pixels)
            ]
            if seen is not None:
                seen.append(match.name)
            labels.append(match.label)
        return labels

    return predict


@pytest.fixture
def hand_made_root(tmp_path):
    """A hand-made test root; see :func:`write_hand_made_root`."""
    return write_hand_made_root(tmp_path / 'root')


def write_hand_made_root(root):
    """Two classes, three foregrounds, four backgrounds, lossless PNGs.

    Foreground ``k`` shows the value ``200 + k`` in its 2x2 mask at the
    centre; background ``j`` (in listing order) is uniformly ``10 * (j + 1)``.
    """
    foregrounds = {'00_a': ['f0', 'f1'], '01_b': ['f2']}
    backgrounds = {'00_a': ['b0', 'b1'], '01_b': ['b2', 'b3']}
    for folder, stems in foregrounds.items():
        for stem in stems:
            image = np.zeros((8, 8, 3), np.uint8)
            image[3:5, 3:5] = 200 + int(stem[1])
            mask = np.zeros((8, 8), np.uint8)
            mask[3:5, 3:5] = 1
            os.makedirs(osp.join(root, 'original', 'val', folder), exist_ok=True)
            os.makedirs(osp.join(root, 'fg_mask', 'val', folder), exist_ok=True)
            cv2.imwrite(osp.join(root, 'original', 'val', folder, stem + '.png'), image)
            np.save(osp.join(root, 'fg_mask', 'val', folder, stem + '.npy'), mask)
    for folder, stems in backgrounds.items():
        os.makedirs(osp.join(root, 'only_bg_t', 'val', folder), exist_ok=True)
        for stem in stems:
            image = np.full((8, 8, 3), 10 * (int(stem[1]) + 1), np.uint8)
            cv2.imwrite(
                osp.join(root, 'only_bg_t', 'val', folder, stem + '.png'), image
            )
    return str(root)
