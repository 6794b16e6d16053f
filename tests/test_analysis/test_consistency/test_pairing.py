"""Pairing ORIGINAL and MIXED-RAND images by stem and by composition."""

import os.path as osp
import shutil

import mmengine
import numpy as np
import pytest

from clad_mm.analysis.consistency.pairing import (
    composition_scores,
    foreground_cells,
    pair_by_composition,
    pair_by_stem,
    pair_splits,
    reference_mask_paths,
)
from clad_mm.data_prep.synthetic.synbg import CLASSES, MANIFEST_FILE, generate_synbg
from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset

TEST_PER_CLASS = 3


def stem_of(path):
    return osp.splitext(osp.basename(path))[0]


@pytest.fixture(scope='module')
def synbg(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('consistency') / 'synbg')
    generate_synbg(
        root,
        image_size=32,
        train_per_class=2,
        test_per_class=TEST_PER_CLASS,
        seed=3,
        show_progress=False,
    )
    manifest = mmengine.load(osp.join(root, MANIFEST_FILE))
    return root, {entry['stem']: entry for entry in manifest['test']}


def split_infos(test_root, *splits):
    dataset = BGChallengeTestDataset(
        data_root=test_root, splits=list(splits), serialize_data=False
    )
    by_split = {split: [] for split in splits}
    for info in dataset.data_list:
        by_split[info['split']].append(info)
    return dataset.metainfo['class_folders'], by_split


def test_foreground_cells_by_hand():
    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    mask = np.zeros((4, 4), np.uint8)
    mask[:, :2] = 1
    cells, interior = foreground_cells(image, mask, grid_size=2, edge_margin=0)
    expected_cells = np.array(
        [
            [image[:2, :2].mean((0, 1)), image[:2, 2:].mean((0, 1))],
            [image[2:, :2].mean((0, 1)), image[2:, 2:].mean((0, 1))],
        ]
    )
    assert cells == pytest.approx(expected_cells)
    assert interior.tolist() == [[True, False], [True, False]]
    # Eroding the 2-pixel-wide mask by one pixel leaves nothing, so the
    # whole mask is used instead of no cell at all.
    _, eroded = foreground_cells(image, mask, grid_size=2, edge_margin=1)
    assert eroded.tolist() == [[True, False], [True, False]]


def test_composition_scores_by_hand():
    references = np.zeros((3, 2, 2, 1), np.float32)
    references[1] = 10
    interiors = np.zeros((3, 2, 2), bool)
    interiors[0, 0, 0] = True
    interiors[1, :, 0] = True
    composite = np.array([[[[0.0], [50.0]], [[4.0], [50.0]]]])
    scores = composition_scores(composite, references, interiors)
    # Reference 0 compares cell (0, 0): |0 - 0|; reference 1 the left
    # column: (|0 - 10| + |4 - 10|) / 2; reference 2 has no interior cell.
    assert scores[0, :2] == pytest.approx([0.0, 8.0])
    assert scores[0, 2] == np.inf


def test_pair_by_stem_follows_the_manifest(synbg):
    root, manifest = synbg
    _, infos = split_infos(osp.join(root, 'test_set'), 'original', 'mixed_rand')
    pairing = pair_by_stem(infos['original'], infos['mixed_rand'])
    assert len(pairing.pairs) == len(manifest) == 9 * TEST_PER_CLASS
    assert not pairing.unmatched_references and not pairing.unmatched_counterparts
    for pair in pairing.pairs:
        reference = infos['original'][pair.reference]
        counterpart = infos['mixed_rand'][pair.counterpart]
        entry = manifest[stem_of(counterpart['img_path'])]
        # The manifest entry of a MIXED-RAND file is the image whose
        # foreground it shows; its background came from the donor.
        assert stem_of(reference['img_path']) == entry['stem']
        assert (
            osp.basename(osp.dirname(reference['img_path']))
            == (CLASSES[entry['label']])
        )
        assert reference['gt_label'] == counterpart['gt_label'] == entry['label']


def test_pair_by_stem_lists_images_without_partner(synbg, tmp_path):
    root, _ = synbg
    test_root = tmp_path / 'test_set'
    for split in ('original', 'mixed_rand'):
        shutil.copytree(osp.join(root, 'test_set', split), test_root / split)
    lonely_reference = test_root / 'original/val/03_star/synbg_test_000009.JPEG'
    lonely_counterpart = test_root / 'mixed_rand/val/05_ring/synbg_test_000015.JPEG'
    (test_root / 'mixed_rand/val/03_star/synbg_test_000009.JPEG').unlink()
    (test_root / 'original/val/05_ring/synbg_test_000015.JPEG').unlink()
    _, infos = split_infos(str(test_root), 'original', 'mixed_rand')

    pairing = pair_by_stem(infos['original'], infos['mixed_rand'])

    assert len(pairing.pairs) == 9 * TEST_PER_CLASS - 2
    (reference,) = pairing.unmatched_references
    assert infos['original'][reference]['img_path'] == str(lonely_reference)
    (counterpart,) = pairing.unmatched_counterparts
    assert infos['mixed_rand'][counterpart.counterpart]['img_path'] == str(
        lonely_counterpart
    )
    assert 'stem' in counterpart.reason


def test_pair_by_composition_finds_the_foreground_not_the_donor(synbg):
    root, manifest = synbg
    test_root = osp.join(root, 'test_set')
    folders, infos = split_infos(test_root, 'original', 'mixed_same', 'mixed_rand')
    masks = reference_mask_paths(
        osp.join(test_root, 'fg_mask', 'val'), infos['original'], folders
    )
    assert len(masks) == len(infos['original'])
    # Composition never looks at the names, so both mixed splits can be
    # paired at once; MIXED-SAME backgrounds come from the same class.
    counterparts = infos['mixed_same'] + infos['mixed_rand']

    pairs, unmatched = pair_by_composition(infos['original'], counterparts, masks)

    assert not unmatched
    assert len(pairs) == len(counterparts)
    for pair in pairs:
        counterpart = counterparts[pair.counterpart]
        split = counterpart['split']
        entry = manifest[stem_of(counterpart['img_path'])]
        matched = stem_of(infos['original'][pair.reference]['img_path'])
        assert matched == entry['stem']
        assert matched != entry[split]['donor']
        assert pair.method == 'composition'
        assert 0 <= pair.match_score <= 10


def test_auto_pairing_falls_back_to_composition_for_renamed_files(synbg, tmp_path):
    root, manifest = synbg
    test_root = tmp_path / 'test_set'
    for folder in ('original', 'fg_mask', 'mixed_rand'):
        shutil.copytree(osp.join(root, 'test_set', folder), test_root / folder)
    rng = np.random.default_rng(0)
    renamed = {}
    for class_dir in sorted((test_root / 'mixed_rand/val').iterdir()):
        files = sorted(class_dir.iterdir())
        for number, path in zip(rng.permutation(len(files)), files[:2]):
            new_path = class_dir / f'composite_{number}.JPEG'
            path.rename(new_path)
            renamed[str(new_path)] = path.stem
    folders, infos = split_infos(str(test_root), 'original', 'mixed_rand')
    masks = reference_mask_paths(
        str(test_root / 'fg_mask/val'), infos['original'], folders
    )

    pairing = pair_splits(infos['original'], infos['mixed_rand'], masks)

    assert pairing.count_by_method() == {
        'stem': 9 * (TEST_PER_CLASS - 2),
        'composition': 9 * 2,
    }
    assert not pairing.unmatched_references and not pairing.unmatched_counterparts
    for pair in pairing.pairs:
        counterpart_path = infos['mixed_rand'][pair.counterpart]['img_path']
        original_stem = renamed.get(counterpart_path, stem_of(counterpart_path))
        assert manifest[original_stem]['stem'] == original_stem
        assert stem_of(infos['original'][pair.reference]['img_path']) == original_stem
        assert (pair.method == 'composition') == (counterpart_path in renamed)

    stem_only = pair_splits(infos['original'], infos['mixed_rand'], masks, 'stem')
    assert len(stem_only.unmatched_counterparts) == 9 * 2
    assert len(stem_only.unmatched_references) == 9 * 2


def test_composites_without_the_foreground_stay_unmatched(synbg):
    root, _ = synbg
    test_root = osp.join(root, 'test_set')
    folders, infos = split_infos(test_root, 'original', 'only_bg_t')
    masks = reference_mask_paths(
        osp.join(test_root, 'fg_mask', 'val'), infos['original'], folders
    )

    pairing = pair_splits(infos['original'], infos['only_bg_t'], masks, 'composition')

    # ONLY-BG-T replaces the object box with background tiles: no image
    # holds a foreground any more.
    assert not pairing.pairs
    assert len(pairing.unmatched_references) == len(infos['original'])
    assert len(pairing.unmatched_counterparts) == len(infos['only_bg_t'])
    for item in pairing.unmatched_counterparts:
        assert 'tolerance' in item.reason
        assert item.best_score > 10


def test_mask_of_the_wrong_size_names_the_file(synbg, tmp_path):
    root, _ = synbg
    _, infos = split_infos(osp.join(root, 'test_set'), 'original', 'mixed_rand')
    bad_mask = tmp_path / 'bad.npy'
    np.save(bad_mask, np.ones((7, 7), np.uint8))
    masks = {index: str(bad_mask) for index in range(len(infos['original']))}
    with pytest.raises(ValueError, match='bad.npy'):
        pair_by_composition(infos['original'], infos['mixed_rand'], masks)


def test_composition_without_masks_is_a_clear_error(synbg):
    root, _ = synbg
    _, infos = split_infos(osp.join(root, 'test_set'), 'original', 'mixed_rand')
    with pytest.raises(ValueError, match='masks'):
        pair_splits(infos['original'], infos['mixed_rand'], {}, 'composition')


def test_an_unreadable_composite_names_the_file(synbg, tmp_path):
    root, _ = synbg
    test_root = osp.join(root, 'test_set')
    folders, infos = split_infos(test_root, 'original', 'mixed_rand')
    masks = reference_mask_paths(
        osp.join(test_root, 'fg_mask', 'val'), infos['original'], folders
    )
    broken = tmp_path / 'broken.JPEG'
    broken.write_bytes(b'not an image')
    counterparts = [dict(infos['mixed_rand'][0], img_path=str(broken))]
    with pytest.raises(ValueError, match='broken.JPEG: cannot be decoded'):
        pair_by_composition(infos['original'], counterparts, masks)
