"""Listing the foregrounds and backgrounds of a Background Challenge test root."""

import os
import os.path as osp

import numpy as np
import pytest

from clad_mm.analysis.adversarial_backgrounds.challenge_set import (
    list_foregrounds,
    sample_subset,
)


def test_synbg_listing_matches_the_folders(synbg_root, synbg):
    foregrounds, backgrounds, classes = synbg
    class_folders = sorted(os.listdir(osp.join(synbg_root, 'original', 'val')))
    assert len(classes) == len(class_folders) == 9
    # The synbg_root fixture makes two test images per class.
    assert len(foregrounds) == len(backgrounds) == 9 * 2
    for foreground in foregrounds:
        folder, file_name = foreground.name.split('/')
        assert class_folders.index(folder) == foreground.label
        stem = osp.splitext(file_name)[0]
        assert foreground.mask_path == osp.join(
            synbg_root, 'fg_mask', 'val', folder, stem + '.npy'
        )
    assert backgrounds[0].image_path.startswith(osp.join(synbg_root, 'only_bg_t'))


def test_missing_mask_names_the_file(hand_made_root):
    root = hand_made_root
    os.remove(osp.join(root, 'fg_mask', 'val', '00_a', 'f1.npy'))
    with pytest.raises(ValueError, match='00_a/f1'):
        list_foregrounds(root)


def test_mask_of_another_size_names_the_file(hand_made_root):
    root = hand_made_root
    mask_path = osp.join(root, 'fg_mask', 'val', '01_b', 'f2.npy')
    np.save(mask_path, np.zeros((8, 7), np.uint8))
    with pytest.raises(ValueError) as error:
        list_foregrounds(root)
    assert mask_path in str(error.value)
    assert '(8, 7)' in str(error.value) and '8x8' in str(error.value)


def test_sample_subset_is_seeded_and_keeps_order():
    items = list(range(50))
    first = sample_subset(items, 10, np.random.default_rng(5))
    again = sample_subset(items, 10, np.random.default_rng(5))
    other = sample_subset(items, 10, np.random.default_rng(6))
    assert first == again != other
    assert len(set(first)) == 10 and first == sorted(first)
    assert sample_subset(items, None, np.random.default_rng(0)) == items
    assert sample_subset(items, 80, np.random.default_rng(0)) == items
