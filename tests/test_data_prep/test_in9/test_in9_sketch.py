"""Tests of the IN9-SKETCH builder on a generated fake ImageNet-Sketch.

The expected images per IN-9 class are counted by hand from the published
ImageNet-1k -> IN-9 map of the Background Challenge (synsets per class: dog
20 + 96, bird 18 + 14 + 20, wheeled vehicle 42, reptile 36, carnivore
12 + 14 + 7 + 2, insect 27, musical instrument 26, primate 20, fish 7 + 9),
not from the code under test.
"""

import importlib.util
import json
import os
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest

from clad_mm.data_prep.in9.selection import (
    resize_and_center_crop as in9_resize_and_center_crop,
)
from clad_mm.data_prep.in9.sketch import (
    REPORT_FILE,
    STATE_FILE,
    format_sketch_table,
    prepare_in9_sketch,
)
from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset
from clad_mm.utils.errors import OutputExistsError, UserError

REPO = Path(__file__).resolve().parents[3]
IN9_FOLDERS = (
    '00_dog',
    '01_bird',
    '02_wheeled vehicle',
    '03_reptile',
    '04_carnivore',
    '05_insect',
    '06_musical instrument',
    '07_primate',
    '08_fish',
)
SYNSETS_PER_CLASS = (116, 52, 42, 36, 35, 27, 26, 20, 16)
# ImageNet classes given more than one sketch: 151 (dog), 0 (fish) and the
# unmapped 171 and 999, which must be skipped.
EXTRA_SKETCHES = {151: 2, 0: 1, 171: 3, 999: 1}


def wnid(index):
    return f'n{90000000 + index:08d}'


def write_sketch(path, index, number):
    rng = np.random.default_rng([index, number])
    height, width = 40 + index % 7 * 10, 60 + index % 5 * 13
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


@pytest.fixture(scope='module')
def sketch_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagenet_sketch') / 'sketch'
    for index in range(1000):
        for number in range(1 + EXTRA_SKETCHES.get(index, 0)):
            write_sketch(root / wnid(index) / f'sketch_{number}.JPEG', index, number)
    return root


def class_counts(split_dir):
    return {
        folder: len(os.listdir(split_dir / folder))
        for folder in sorted(os.listdir(split_dir))
    }


def test_counts_sizes_and_names(tmp_path, sketch_dir):
    test_root = tmp_path / 'bg_challenge'
    report = prepare_in9_sketch(str(sketch_dir), str(test_root), show_progress=False)

    expected = dict(zip(IN9_FOLDERS, SYNSETS_PER_CLASS))
    expected['00_dog'] += 2
    expected['08_fish'] += 1
    split_dir = test_root / 'sketch' / 'val'
    assert class_counts(split_dir) == expected
    assert report['images'] == report['written_now'] == 370 + 3
    assert {f: c['images'] for f, c in report['classes'].items()} == expected
    assert {f: c['synsets'] for f, c in report['classes'].items()} == dict(
        zip(IN9_FOLDERS, SYNSETS_PER_CLASS)
    )
    # Unmapped synsets (e.g. 171 between the dog ranges, 999) are skipped.
    names = {name for folder in split_dir.iterdir() for name in os.listdir(folder)}
    assert f'{wnid(151)}_sketch_2.JPEG' in names
    assert not any(name.startswith((wnid(171), wnid(998), wnid(999))) for name in names)
    assert sorted(os.listdir(split_dir / '08_fish'))[:3] == [
        f'{wnid(0)}_sketch_0.JPEG',
        f'{wnid(0)}_sketch_1.JPEG',
        f'{wnid(1)}_sketch_0.JPEG',
    ]
    # Every image is 224 x 224 and is IN-9's Resize(256) + CenterCrop(224).
    for folder in split_dir.iterdir():
        for name in os.listdir(folder):
            assert cv2.imread(str(folder / name)).shape == (224, 224, 3)
    source = cv2.imread(str(sketch_dir / wnid(33) / 'sketch_0.JPEG'))
    written = cv2.imread(str(split_dir / '03_reptile' / f'{wnid(33)}_sketch_0.JPEG'))
    difference = np.abs(written.astype(int) - in9_resize_and_center_crop(source))
    assert difference.mean() < 4  # JPEG q95 of noise
    table = format_sketch_table(report)
    assert '| 00_dog | 116 | 118 | 118 | 0 |' in table
    assert '| total | 370 | 373 | 373 | 0 |' in table
    saved = json.loads((test_root / 'sketch' / REPORT_FILE).read_text())
    assert saved['classes'] == report['classes']

    # The split is read like any Background Challenge split.
    dataset = BGChallengeTestDataset(data_root=str(test_root), serialize_data=False)
    assert dataset.split_names == ('sketch',)
    assert len(dataset) == 373
    labels = [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]
    assert np.bincount(labels).tolist() == list(expected.values())


def test_resumes_and_refuses_other_settings(tmp_path, sketch_dir):
    test_root = tmp_path / 'root'
    prepare_in9_sketch(str(sketch_dir), str(test_root), size=32, show_progress=False)
    kept = test_root / 'sketch' / 'val' / '05_insect' / f'{wnid(300)}_sketch_0.JPEG'
    removed = test_root / 'sketch' / 'val' / '01_bird' / f'{wnid(7)}_sketch_0.JPEG'
    os.utime(kept, (1, 1))
    removed.unlink()
    # What a run killed while writing ``removed`` leaves behind.
    stale = removed.with_name(f'.{removed.name}.tmp424242')
    stale.write_bytes(b'half an image')

    report = prepare_in9_sketch(
        str(sketch_dir), str(test_root), size=32, show_progress=False
    )
    assert report['written_now'] == 1 and report['already_complete'] == 372
    assert not stale.exists()
    assert cv2.imread(str(removed)).shape == (32, 32, 3)
    assert kept.stat().st_mtime == 1

    with pytest.raises(ValueError, match=r'size=32 \(now 224\)'):
        prepare_in9_sketch(str(sketch_dir), str(test_root), show_progress=False)
    (test_root / 'sketch' / STATE_FILE).unlink()
    with pytest.raises(FileExistsError, match='holds no prepare_in9_sketch_state'):
        prepare_in9_sketch(str(sketch_dir), str(test_root), show_progress=False)


def write_synsets(path, indices):
    path.write_text(''.join(f'{wnid(i)} made-up class {i}\n' for i in indices))
    return path


def test_synsets_file_gives_the_order_and_allows_missing_folders(tmp_path):
    sketch = tmp_path / 'sketch'
    # Folder wnid(999) is listed first (class 0, fish) and wnid(0) last
    # (class 999, unmapped); wnid(151) is class 151 (dog).
    for index in (0, 151, 999):
        write_sketch(sketch / wnid(index) / 'a.JPEG', index, 0)
    synsets = write_synsets(tmp_path / 'synsets.txt', range(999, -1, -1))

    report = prepare_in9_sketch(
        str(sketch), str(tmp_path / 'root'), str(synsets), show_progress=False
    )
    split_dir = tmp_path / 'root' / 'sketch' / 'val'
    assert (split_dir / '08_fish' / f'{wnid(999)}_a.JPEG').is_file()
    # wnid(151) is class 999 - 151 = 848 in this order: not an IN-9 class.
    assert sorted(os.listdir(split_dir)) == ['08_fish']
    assert report['synsets_mapped'] == 1
    assert len(report['missing_synset_folders']) == 369


def test_folder_errors_are_clear(tmp_path):
    partial = tmp_path / 'partial'
    for index in range(999):
        (partial / wnid(index)).mkdir(parents=True)
    with pytest.raises(ValueError, match='holds 999 synset folders.*--synsets'):
        prepare_in9_sketch(str(partial), str(tmp_path / 'r'), show_progress=False)

    (partial / wnid(999)).mkdir()
    (partial / 'misc').mkdir()
    with pytest.raises(ValueError, match=r"1 folders that are not WordNet ids.*'misc'"):
        prepare_in9_sketch(str(partial), str(tmp_path / 'r'), show_progress=False)

    small = tmp_path / 'small'
    (small / wnid(5)).mkdir(parents=True)
    (small / 'n12345678').mkdir()
    synsets = write_synsets(tmp_path / 'synsets.txt', range(1000))
    with pytest.raises(ValueError, match=r"not synsets listed in .*'n12345678'"):
        prepare_in9_sketch(str(small), str(tmp_path / 'r'), str(synsets))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        prepare_in9_sketch(str(tmp_path / 'nowhere'), str(tmp_path / 'r'))
    assert not osp.exists(tmp_path / 'r')


def test_tool_prints_the_table(tmp_path, capsys):
    sketch = tmp_path / 'sketch'
    write_sketch(sketch / wnid(365) / 'a.JPEG', 365, 0)
    write_sketch(sketch / wnid(365) / 'b.JPEG', 365, 1)
    synsets = write_synsets(tmp_path / 'synsets.txt', range(1000))
    spec = importlib.util.spec_from_file_location(
        'prepare_in9_sketch_tool', REPO / 'tools/data/prepare_in9_sketch.py'
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    root = tmp_path / 'root'
    tool.main([str(sketch), str(root), '--synsets', str(synsets), '--size', '16'])
    out = capsys.readouterr().out
    assert '| 07_primate | 1 | 2 | 2 | 0 |' in out
    assert 'WARNING: 369 IN-9 synsets have no folder' in out
    assert f'Report: {root}/sketch/{REPORT_FILE}' in out
    with pytest.raises(UserError, match='written with other settings.*size=16'):
        tool.main([str(sketch), str(root), '--synsets', str(synsets)])


def test_a_user_file_planted_in_the_sketch_folder_survives_and_stops_a_resume(
    tmp_path, sketch_dir
):
    test_root = tmp_path / 'root'
    prepare_in9_sketch(str(sketch_dir), str(test_root), size=32, show_progress=False)
    planted = test_root / 'sketch' / 'val' / '01_bird' / 'my_drawing.JPEG'
    planted.write_bytes(b'user file')
    with pytest.raises(OutputExistsError, match='val/01_bird/my_drawing.JPEG'):
        prepare_in9_sketch(
            str(sketch_dir), str(test_root), size=32, show_progress=False
        )
    assert planted.read_bytes() == b'user file'
