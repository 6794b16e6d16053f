"""The per-split accuracy plot is a valid PNG of the requested size."""

import cv2
import pytest

from clad_mm.visualization import plot_split_accuracies


def test_plot_is_png_of_requested_size(tmp_path):
    metrics = {
        'bg_challenge/original': 95.0,
        'bg_challenge/mixed_same': 90.0,
        'bg_challenge/mixed_rand': 70.0,
        'bg_challenge/bg_gap': 20.0,
    }
    out_path = tmp_path / 'splits.png'
    plot_split_accuracies(metrics, str(out_path), size_px=(640, 320))
    assert out_path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    image = cv2.imread(str(out_path))
    assert image.shape[:2] == (320, 640)


def test_plot_without_accuracies_names_the_keys(tmp_path):
    with pytest.raises(ValueError, match='accuracy/top1'):
        plot_split_accuracies({'accuracy/top1': 1.0}, str(tmp_path / 'x.png'))
