"""IN-9 construction from a tiny fake ImageNet (clad_mm.data_prep.in9)."""

import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.in9.build import prepare_in9
from clad_mm.data_prep.in9.candidates import (
    in9_synset_labels,
    read_synset_order,
    synset_order_from_folders,
)
from clad_mm.data_prep.in9.report import REPORT_FILE, format_report_table
from clad_mm.data_prep.in9.selection import assign_subsets, box_in_crop
from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset
from clad_mm.datasets.bg_challenge_train_dataset import BGChallengeTrainDataset

_spec = importlib.util.spec_from_file_location(
    'fake_imagenet', osp.join(osp.dirname(__file__), 'fake_imagenet.py')
)
fake_imagenet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_imagenet)

CLASS_FOLDERS = [
    '00_dog',
    '01_bird',
    '02_wheeled vehicle',
    '03_reptile',
    '04_carnivore',
    '05_insect',
    '06_musical instrument',
    '07_primate',
    '08_fish',
]
VAL_PER_CLASS = 2
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp('in9')
    fake = fake_imagenet.make_fake_imagenet(str(root / 'imagenet'))
    out_root = str(root / 'in9')
    report = prepare_in9(
        fake['train_root'],
        fake['bbox_root'],
        out_root,
        synsets_file=fake['synsets_file'],
        val_per_class=VAL_PER_CLASS,
        workers=1,
        show_progress=False,
    )
    return fake, out_root, report


def _output_files(out_root):
    """``{stem: [(view, subset, class folder, file name)]}`` of every output."""
    files = {}
    for view in os.listdir(out_root):
        if view.startswith('.') or not osp.isdir(osp.join(out_root, view)):
            continue
        for subset in os.listdir(osp.join(out_root, view)):
            for folder in os.listdir(osp.join(out_root, view, subset)):
                for name in os.listdir(osp.join(out_root, view, subset, folder)):
                    stem = osp.splitext(name)[0]
                    files.setdefault(stem, []).append((view, subset, folder, name))
    return files


def _crop_mask(mask):
    """Ground truth in the 224 crop: Resize(256, short side) + CenterCrop."""
    height, width = mask.shape
    if width < height:
        size = (256, int(256 * height / width))
    else:
        size = (int(256 * width / height), 256)
    resized = cv2.resize(mask.astype(np.float32), size) > 0.5
    top = int(round((size[1] - 224) / 2))
    left = int(round((size[0] - 224) / 2))
    return resized[top : top + 224, left : left + 224]


def _read_mask(out_root, subset, folder, stem):
    if subset == 'val':
        return np.load(osp.join(out_root, 'fg_mask', 'val', folder, stem + '.npy'))
    path = osp.join(out_root, 'fg_mask', 'train', folder, stem + '.png')
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255}
    return mask // 255


def _is_object_colour(image):
    # The fake objects are saturated red (BGR about (40, 40, 220)); the
    # backgrounds are grey-green.
    image = image.astype(int)
    return image[..., 2] - np.maximum(image[..., 0], image[..., 1]) > 80


def test_keeps_and_rejects_exactly_what_the_rules_say(built):
    fake, out_root, report = built
    files = _output_files(out_root)
    for stem, image in fake['images'].items():
        if image['expected'] == 'kept':
            subsets = {subset for _, subset, _, _ in files[stem]}
            folders = {folder for _, _, folder, _ in files[stem]}
            assert len(subsets) == 1, stem
            assert folders == {CLASS_FOLDERS[image['label']]}, stem
        else:
            assert stem not in files, (stem, image['expected'])
    expected = [image['expected'] for image in fake['images'].values()]
    assert report['kept'] == expected.count('kept') == 36
    assert report['rejected'] == {
        rule: expected.count(rule)
        for rule in (
            'no_annotation',
            'box_count',
            'box_cropped',
            'box_too_large',
            'small_mask',
        )
    }
    assert report['no_annotation'] == [
        image['path']
        for image in fake['images'].values()
        if image['expected'] == 'no_annotation'
    ]
    failed_stems = sorted(
        stem for stem, image in fake['images'].items() if image['expected'] == 'failed'
    )
    reported = sorted(
        osp.splitext(osp.basename(f['path']))[0] for f in report['failed']
    )
    assert reported == failed_stems
    assert all(f['error'] and f['path'] in f['error'] for f in report['failed'])
    saved = json.load(open(osp.join(out_root, REPORT_FILE)))
    assert saved['rejected'] == report['rejected']
    table = format_report_table(report)
    assert '| rejected: small_mask | 1 |' in table
    assert '| 00_dog | 4 | 2 | 2 |' in table


def test_unmapped_synsets_are_not_read(built):
    fake, out_root, report = built
    mapped = [i for i in fake['images'].values() if i['expected'] != 'unmapped']
    assert report['candidates'] == len(mapped)
    assert not [
        stem for stem in _output_files(out_root) if stem.startswith('n90000999')
    ]
    assert not [
        stem for stem in _output_files(out_root) if stem.startswith('n90000171')
    ]


def test_grabcut_masks_match_the_drawn_objects(built):
    fake, out_root, _ = built
    files = _output_files(out_root)
    ious = []
    for stem, image in fake['images'].items():
        if image['expected'] != 'kept':
            continue
        (subset,) = {subset for _, subset, _, _ in files[stem]}
        folder = CLASS_FOLDERS[image['label']]
        mask = _read_mask(out_root, subset, folder, stem).astype(bool)
        truth = _crop_mask(image['mask'])
        ious.append((mask & truth).sum() / (mask | truth).sum())
    assert len(ious) == 36
    assert min(ious) >= 0.8, sorted(ious)[:5]


def test_views_are_consistent(built):
    fake, out_root, _ = built
    files = _output_files(out_root)
    for stem, image in fake['images'].items():
        if image['expected'] != 'kept':
            continue
        (subset,) = {subset for _, subset, _, _ in files[stem]}
        folder = CLASS_FOLDERS[image['label']]
        truth = _crop_mask(image['mask'])

        def read(view, stem=stem, subset=subset, folder=folder):
            path = osp.join(out_root, view, subset, folder, stem + '.JPEG')
            return cv2.imread(path)

        original = read('original')
        assert original.shape == (224, 224, 3)
        assert _is_object_colour(original)[truth].mean() > 0.9
        assert not _is_object_colour(read('only_bg_t')).any(), stem
        mixed = ['mixed_rand'] if subset == 'train' else ['mixed_same', 'mixed_rand']
        for view in mixed + (['mixed_next'] if subset == 'val' else []):
            composite = _is_object_colour(read(view))
            # The object is pasted where it was, on an object-free background.
            assert composite[truth].mean() > 0.9, (stem, view)
            assert composite[~truth].mean() < 0.01, (stem, view)
        if subset == 'train':
            only_fg = read('only_fg')
            assert only_fg[~truth].max(axis=1).mean() < 30
    views = sorted(
        {(view, subset) for stem in files for view, subset, _, _ in files[stem]}
    )
    assert views == [
        ('fg_mask', 'train'),
        ('fg_mask', 'val'),
        ('mixed_next', 'val'),
        ('mixed_rand', 'train'),
        ('mixed_rand', 'val'),
        ('mixed_same', 'val'),
        ('only_bg_t', 'train'),
        ('only_bg_t', 'val'),
        ('only_fg', 'train'),
        ('original', 'train'),
        ('original', 'val'),
    ]


def test_datasets_read_the_output(built):
    _, out_root, _ = built
    train = BGChallengeTrainDataset(data_root=out_root)
    assert len(train) == 9 * 2
    assert train.metainfo['classes'][2] == 'wheeled vehicle'
    infos = [train.get_data_info(index) for index in range(len(train))]
    assert [info['gt_label'] for info in infos] == [i // 2 for i in range(18)]
    assert all(info['fg_mask_source'] == 'mask' for info in infos)
    val = BGChallengeTestDataset(
        data_root=out_root,
        splits=['original', 'only_bg_t', 'mixed_same', 'mixed_rand', 'mixed_next'],
        with_fg_mask=True,
    )
    assert len(val) == 5 * 9 * VAL_PER_CLASS


def test_resume_skips_decided_and_written_images(built, tmp_path):
    fake, out_root, first = built
    stem = next(s for s, i in fake['images'].items() if i['expected'] == 'kept')
    (path,) = [
        osp.join(out_root, view, subset, folder, name)
        for view, subset, folder, name in _output_files(out_root)[stem]
        if view == 'original'
    ]
    with open(path, 'wb') as file:
        file.write(b'truncated')
    report = prepare_in9(
        fake['train_root'],
        fake['bbox_root'],
        out_root,
        synsets_file=fake['synsets_file'],
        val_per_class=VAL_PER_CLASS,
        workers=1,
        show_progress=False,
    )
    # Only the two unreadable files are tried again; GrabCut runs on nothing.
    assert report['scanned_now'] == 2
    assert report['written_now'] == 1
    assert report['skipped_existing'] == 35
    assert cv2.imread(path).shape == (224, 224, 3)
    with pytest.raises(ValueError, match='selection'):
        prepare_in9(
            fake['train_root'],
            fake['bbox_root'],
            out_root,
            synsets_file=fake['synsets_file'],
            val_per_class=3,
            workers=1,
            show_progress=False,
        )


# Runs prepare_in9 with os.replace patched to SIGKILL the process at the third
# training image it would move into place: the image's temporary is written,
# nothing after it runs (no finally clause, no cleanup), as with a real kill.
_KILLED_BUILD = """
import os, signal, sys
from clad_mm.data_prep.in9.build import prepare_in9

real_replace = os.replace
moved = 0


def replace_or_die(source, destination, *args, **kwargs):
    global moved
    if os.sep.join(('', 'original', 'train', '')) in destination:
        moved += 1
        if moved == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, destination, *args, **kwargs)


os.replace = replace_or_die
train_root, bbox_root, out_root, synsets_file, val_per_class = sys.argv[1:]
prepare_in9(
    train_root, bbox_root, out_root, synsets_file=synsets_file,
    val_per_class=int(val_per_class), workers=1, show_progress=False,
)
"""


def _files_below(root):
    return sorted(
        osp.relpath(osp.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )


def test_a_killed_build_leaves_only_dot_temporaries_and_resumes(built, tmp_path):
    fake, reference_root, _ = built
    out_root = str(tmp_path / 'in9')
    arguments = [
        fake['train_root'],
        fake['bbox_root'],
        out_root,
        fake['synsets_file'],
        str(VAL_PER_CLASS),
    ]
    killed = subprocess.run(
        [sys.executable, '-c', _KILLED_BUILD, *arguments],
        env={**os.environ, 'PYTHONPATH': REPO_ROOT},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Two training images per class: the kill struck at the first image of
    # class 01 and left its temporary, as a dot file that the datasets'
    # listings ignore, alone in the class folder.
    (temporary,) = [name for name in _files_below(out_root) if '.tmp' in name]
    assert temporary.startswith(osp.join('original', 'train', CLASS_FOLDERS[1], '.'))
    assert len(os.listdir(osp.dirname(osp.join(out_root, temporary)))) == 1

    prepare_in9(
        fake['train_root'],
        fake['bbox_root'],
        out_root,
        synsets_file=fake['synsets_file'],
        val_per_class=VAL_PER_CLASS,
        workers=1,
        show_progress=False,
    )
    assert not [name for name in _files_below(out_root) if '.tmp' in name]
    assert len(BGChallengeTrainDataset(data_root=out_root)) == 9 * 2
    # The resumed build wrote what an uninterrupted one writes.
    for view in os.listdir(reference_root):
        reference = osp.join(reference_root, view)
        if view.startswith('.') or not osp.isdir(reference):
            continue
        assert _files_below(osp.join(out_root, view)) == _files_below(reference)
        for name in _files_below(reference):
            with open(osp.join(reference, name), 'rb') as file:
                expected = file.read()
            with open(osp.join(out_root, view, name), 'rb') as file:
                assert file.read() == expected, name


def test_refuses_a_foreign_non_empty_output(built, tmp_path):
    fake = built[0]
    (tmp_path / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='--overwrite'):
        prepare_in9(
            fake['train_root'],
            fake['bbox_root'],
            str(tmp_path),
            synsets_file=fake['synsets_file'],
            show_progress=False,
        )


def test_synset_order(built, tmp_path):
    fake = built[0]
    synsets = read_synset_order(fake['synsets_file'])
    assert synsets[151] == 'n90000151'
    labels = in9_synset_labels(synsets)
    assert len(labels) == 370
    assert labels['n90000151'] == 0 and labels['n90000007'] == 1
    assert 'n90000999' not in labels and 'n90000171' not in labels
    plain = tmp_path / 'wnids.txt'
    plain.write_text('\n'.join(synsets) + '\n')
    assert read_synset_order(str(plain)) == synsets
    bad = tmp_path / 'bad.txt'
    bad.write_text('n00000001 a\nclass,index\n')
    with pytest.raises(ValueError, match='line 2'):
        read_synset_order(str(bad))
    with pytest.raises(ValueError, match='--synsets'):
        synset_order_from_folders(fake['train_root'])


def test_box_geometry_by_hand():
    # 100 x 200 (H x W): resized to 256 x 512, crop offset x = 144, y = 16.
    # Box x 50..100, y 0..50 -> x 128..256, y 0..128 -> 0..112 and 0..112
    # after the offsets: (16 + 112) / 128 kept in x, 112 / 128 in y.
    clipped, kept, coverage = box_in_crop((50, 0, 100, 50), 100, 200)
    assert clipped == pytest.approx((0, 0, 112, 112))
    assert kept == pytest.approx((112 * 112) / (128 * 128))
    assert coverage == pytest.approx(0.25)


def test_assign_subsets_is_seeded_and_names_short_classes():
    kept = {label: [f'{label}/{i}' for i in range(6)] for label in range(9)}
    train, val = assign_subsets(kept, 2, 3, seed=0)
    again = assign_subsets(kept, 2, 3, seed=0)
    assert (train, val) == again
    for label in range(9):
        assert len(train[label]) == 3 and len(val[label]) == 2
        assert not set(train[label]) & set(val[label])
    kept[4] = kept[4][:4]
    with pytest.raises(ValueError, match='04_carnivore'):
        assign_subsets(kept, 2, 3, seed=0)
