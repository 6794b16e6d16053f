"""The one image reader and atomic writer (clad_mm/utils/fileio.py)."""

import json
import os

import cv2
import numpy as np
import pytest

from clad_mm.utils.fileio import (
    read_image,
    remove_stale_temporaries,
    write_atomically,
    write_image_atomically,
    write_json_atomically,
)


def test_read_image_tells_a_missing_file_from_an_undecodable_one(tmp_path):
    with pytest.raises(ValueError, match=r'absent\.png: no such image file'):
        read_image(str(tmp_path / 'absent.png'))
    empty = tmp_path / 'empty.JPEG'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty\.JPEG: cannot be decoded'):
        read_image(str(empty))


def test_images_round_trip_in_every_format_and_unicode_folders(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (6, 5, 3), np.uint8)
    folder = tmp_path / '02_wheeled vehicle' / 'é'
    png, npy, jpeg = (str(folder / name) for name in ('a.png', 'a.npy', 'a.JPEG'))
    write_image_atomically(png, image)
    write_image_atomically(npy, image[..., 0] > 127)
    write_image_atomically(jpeg, image)
    assert np.array_equal(read_image(png), image)
    assert np.array_equal(np.load(npy), image[..., 0] > 127)
    # JPEG at quality 95: the bytes OpenCV writes with that setting.
    ok, expected = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok and open(jpeg, 'rb').read() == expected.tobytes()
    assert sorted(os.listdir(folder)) == ['a.JPEG', 'a.npy', 'a.png']


def test_a_failed_write_leaves_neither_output_nor_temporary(tmp_path, monkeypatch):
    target = tmp_path / 'state.json'

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(target), 'partial')
    assert os.listdir(tmp_path) == []


def test_json_is_replaced_whole_and_unicode_kept(tmp_path):
    target = str(tmp_path / 'report.json')
    write_json_atomically(target, {'class': 'wheeled vehicle', 'é': 1})
    write_json_atomically(target, {'class': '07_primate'})
    assert json.load(open(target, encoding='utf-8')) == {'class': '07_primate'}
    assert os.listdir(tmp_path) == ['report.json']


def test_only_the_writers_temporaries_are_removed(tmp_path):
    folder = tmp_path / '00_dog'
    folder.mkdir()
    stale = ['.x.JPEG.tmp123', '.y.json.tmp9']
    kept = ['x.JPEG', '.hidden', 'notes.tmp1', '.z.tmp', '.w.tmpabc']
    for name in stale + kept:
        (folder / name).write_bytes(b'')
    assert remove_stale_temporaries(str(tmp_path)) == 2
    assert sorted(os.listdir(folder)) == sorted(kept)
    assert remove_stale_temporaries(str(tmp_path / 'missing')) == 0
