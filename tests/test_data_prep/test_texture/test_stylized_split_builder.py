"""Tests of the Stylized IN-9 builder with random AdaIN weights.

The weights are a random-initialised ``AdaINStylizer`` saved as plain state
dicts, the layout of pytorch-AdaIN's ``vgg_normalised.pth`` and
``decoder.pth`` (as in tests/test_models/test_adain.py, scaled the same way
so that the output depends visibly on the style).
"""

import importlib.util
import json
import math
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from clad_mm.data_prep.texture.stylized_split_builder import (
    build_stylized_split,
    format_stylize_table,
    manifest_path,
)
from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset
from clad_mm.datasets.bg_challenge_train_dataset import BGChallengeTrainDataset
from clad_mm.models.stylization.adain import AdaINStylizer
from clad_mm.utils.errors import OutputExistsError, UserError

REPO = Path(__file__).resolve().parents[3]
# (class folder, stem, height, width): two sizes, one not a multiple of 8,
# so that the batch of inputs 2 and 3 holds both.
INPUTS = (
    ('00_cat', 'a0', 32, 32),
    ('00_cat', 'a1', 32, 32),
    ('00_cat', 'a2', 32, 32),
    ('01_dog', 'b0', 28, 36),
    ('01_dog', 'b1', 28, 36),
)
# Style images in nested folders, all square so that the expected style
# crop is a plain resize; the dot file and the text file are not styles.
STYLES = ('s0.png', 'x/s1.jpg', 'x/y/s2.png', 'z/s3.png', 's4.png', 's5.png')
STYLE_COLOURS = (
    (230, 20, 20),
    (20, 230, 20),
    (20, 20, 230),
    (230, 230, 20),
    (20, 230, 230),
    (230, 20, 230),
)
STYLE_SIZE = 32


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    torch.manual_seed(0)
    stylizer = AdaINStylizer()
    with torch.no_grad():
        for module in [*stylizer.encoder, *stylizer.decoder]:
            if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3):
                module.weight.mul_(math.sqrt(6))
        stylizer.decoder[-1].weight.div_(math.sqrt(6))
        stylizer.decoder[-1].bias.fill_(0.5)
    folder = tmp_path_factory.mktemp('adain')
    encoder, decoder = folder / 'vgg_normalised.pth', folder / 'decoder.pth'
    torch.save(stylizer.encoder.state_dict(), encoder)
    torch.save(stylizer.decoder.state_dict(), decoder)
    return str(encoder), str(decoder)


@pytest.fixture(scope='module')
def style_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('styles')
    for index, name in enumerate(STYLES):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # Saturated colours and stripes of different periods: styles that
        # AdaIN tells apart clearly, even through a random network.
        colour = np.array(STYLE_COLOURS[index])
        stripes = np.arange(48)[None, :, None] // (2 + 2 * index) % 2
        image = np.where(stripes, colour, colour // 4).astype(np.uint8)
        assert cv2.imwrite(str(path), np.repeat(image, 48, axis=0))
    assert cv2.imwrite(str(root / '.hidden.png'), np.zeros((8, 8, 3), np.uint8))
    (root / 'notes.txt').write_text('not an image')
    return root


def write_root(root, inputs=INPUTS, subset='val'):
    rng = np.random.default_rng(2)
    for folder, stem, height, width in inputs:
        path = root / 'original' / subset / folder / f'{stem}.png'
        path.parent.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        assert cv2.imwrite(str(path), image)
    return root


def build(root, weights, style_dir, **kwargs):
    kwargs.setdefault('batch_size', 2)
    kwargs.setdefault('style_size', STYLE_SIZE)
    kwargs.setdefault('show_progress', False)
    return build_stylized_split(str(root), str(style_dir), *weights, **kwargs)


def output_files(root, subset='val'):
    folder = root / 'stylized' / subset
    return {
        str(path.relative_to(folder)): path for path in sorted(folder.rglob('*.JPEG'))
    }


def read_rgb01(path, size=None):
    """An image file as an RGB [3, H, W] tensor in [0, 1], optionally resized
    to a size x size square (the style crop of a square image)."""
    image = cv2.imread(str(path))
    if size is not None:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
    image = image[..., ::-1].astype(np.float32) / 255
    return torch.from_numpy(image.copy()).permute(2, 0, 1)


def test_every_input_is_stylized_at_its_size_with_its_style(
    tmp_path, weights, style_dir
):
    root = write_root(tmp_path / 'root')
    report = build(root, weights, style_dir)

    outputs = output_files(root)
    assert sorted(outputs) == sorted(f'{f}/{stem}.JPEG' for f, stem, _, _ in INPUTS)
    for folder, stem, height, width in INPUTS:
        assert cv2.imread(str(outputs[f'{folder}/{stem}.JPEG'])).shape == (
            height,
            width,
            3,
        )
    assert report['images'] == report['written_now'] == 5
    assert report['styles_available'] == len(STYLES)
    manifest = json.loads(Path(manifest_path(str(root), 'stylized', 'val')).read_text())
    assert set(manifest['styles']) == {f'{f}/{stem}.png' for f, stem, _, _ in INPUTS}
    assert set(manifest['styles'].values()) <= set(STYLES)
    assert len(set(manifest['styles'].values())) > 1

    # Each output is AdaIN of its input with the style the manifest names,
    # and farther from AdaIN with any other style.
    stylizer = AdaINStylizer(*weights)
    style_tensors = {
        name: read_rgb01(style_dir / name, size=STYLE_SIZE) for name in STYLES
    }
    for input_path, style in manifest['styles'].items():
        content = read_rgb01(root / 'original' / 'val' / input_path)
        written = read_rgb01(outputs[input_path.replace('.png', '.JPEG')])
        errors = {
            name: float(
                (stylizer(content[None], style_image[None])[0] - written).abs().mean()
            )
            for name, style_image in style_tensors.items()
        }
        assert errors[style] < 3 / 255, input_path  # JPEG q95
        assert min(errors, key=errors.get) == style, (input_path, errors)

    # The stylized split is read beside the original one.
    dataset = BGChallengeTestDataset(data_root=str(root), serialize_data=False)
    assert dataset.split_names == ('original', 'stylized')
    assert len(dataset) == 10
    table = format_stylize_table(report)
    assert '| 00_cat | 3 | 3 | 0 |' in table and '| total | 5 | 5 | 0 |' in table


def test_runs_are_identical_and_resume_rewrites_only_missing_outputs(
    tmp_path, weights, style_dir
):
    first, second = write_root(tmp_path / 'first'), write_root(tmp_path / 'second')
    build(first, weights, style_dir)
    build(second, weights, style_dir)
    first_outputs, second_outputs = output_files(first), output_files(second)
    contents = {name: path.read_bytes() for name, path in first_outputs.items()}
    assert contents == {name: p.read_bytes() for name, p in second_outputs.items()}

    # Outputs from two different batches go missing.
    missing = ('00_cat/a0.JPEG', '01_dog/b0.JPEG')
    for name, path in first_outputs.items():
        if name in missing:
            path.unlink()
        else:
            os.utime(path, (1_000_000, 1_000_000))
    # What a run killed while writing a missing output leaves behind.
    stale = first_outputs[missing[0]]
    stale = stale.with_name(f'.{stale.name}.tmp424242')
    stale.write_bytes(b'half an image')
    report = build(first, weights, style_dir)
    assert report['written_now'] == 2 and report['already_complete'] == 3
    assert not stale.exists()
    assert report['classes']['01_dog'] == dict(images=2, written_now=1)
    for name, path in output_files(first).items():
        assert path.read_bytes() == contents[name], name
        assert (path.stat().st_mtime == 1_000_000) == (name not in missing), name


def test_other_settings_are_refused(tmp_path, weights, style_dir):
    root = write_root(tmp_path / 'root')
    build(root, weights, style_dir)
    with pytest.raises(ValueError, match=r'alpha=1\.0 \(now 0\.5\)'):
        build(root, weights, style_dir, alpha=0.5)
    with pytest.raises(ValueError, match=r'seed=0 \(now 3\)'):
        build(root, weights, style_dir, seed=3)
    with pytest.raises(ValueError, match='decoder_sha256='):
        build(root, (weights[0], weights[0]), style_dir)
    # Batch size and device only change the rounding: the run resumes.
    assert build(root, weights, style_dir, batch_size=3)['written_now'] == 0


def test_style_of_an_image_does_not_depend_on_the_other_images(
    tmp_path, weights, style_dir
):
    full = write_root(tmp_path / 'full')
    build(full, weights, style_dir)
    # Fewer images, in other batches, plus one new image listed first.
    subset = [INPUTS[4], INPUTS[2], ('00_aardvark', 'c0', 32, 32)]
    partial = write_root(tmp_path / 'partial', subset)
    build(partial, weights, style_dir, batch_size=1)

    def styles(root):
        path = Path(manifest_path(str(root), 'stylized', 'val'))
        return json.loads(path.read_text())['styles']

    full_styles, partial_styles = styles(full), styles(partial)
    for folder, stem, _, _ in subset[:2]:
        key = f'{folder}/{stem}.png'
        assert partial_styles[key] == full_styles[key]
    # Another seed draws other styles.
    other_seed = write_root(tmp_path / 'seed')
    build(other_seed, weights, style_dir, seed=1)
    assert styles(other_seed) != full_styles


def test_bad_inputs_raise_clear_errors(tmp_path, weights, style_dir):
    root = write_root(tmp_path / 'root')
    foreign = root / 'stylized' / 'val' / '00_cat'
    foreign.mkdir(parents=True)
    (foreign / 'mine.JPEG').write_bytes(b'user file')
    with pytest.raises(FileExistsError, match='has no manifest'):
        build(root, weights, style_dir)
    assert (foreign / 'mine.JPEG').read_bytes() == b'user file'
    shutil.rmtree(root / 'stylized')

    with pytest.raises(ValueError, match='out_split must differ'):
        build(root, weights, style_dir, out_split='original')
    empty = tmp_path / 'empty_styles'
    (empty / 'sub').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='holds no image file'):
        build(root, weights, empty)
    with pytest.raises(FileNotFoundError, match='decoder checkpoint .*missing.pth'):
        build(root, (weights[0], str(tmp_path / 'missing.pth')), style_dir)
    with pytest.raises(FileNotFoundError, match="images of the 'original' split"):
        build(root, weights, style_dir, subset='train')
    assert not (root / 'stylized').exists()


def test_tool_stylizes_a_training_subset(tmp_path, weights, style_dir, capsys):
    root = write_root(tmp_path / 'in9', INPUTS[:2], subset='train')
    spec = importlib.util.spec_from_file_location(
        'make_stylized_in9', REPO / 'tools/data/make_stylized_in9.py'
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    arguments = [str(root), str(style_dir), '--encoder', weights[0]]
    arguments += ['--decoder', weights[1], '--subset', 'train', '--device', 'cpu']
    tool.main([*arguments, '--style-size', '16'])
    out = capsys.readouterr().out
    assert '| total | 2 | 2 | 0 |' in out
    assert sorted(output_files(root, 'train')) == ['00_cat/a0.JPEG', '00_cat/a1.JPEG']
    assert f'Report: {root}/stylized/stylize_train_report.json' in out
    with pytest.raises(UserError, match=r'stylized with other settings.*style_size=16'):
        tool.main(arguments)

    # The stylized training images keep their stems, so the masks match.
    for folder, stem, height, width in INPUTS[:2]:
        mask = root / 'fg_mask' / 'train' / folder / f'{stem}.png'
        mask.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(mask), np.full((height, width), 255, np.uint8))
    dataset = BGChallengeTrainDataset(
        data_root=str(root), image_dir='stylized', background_dir=None
    )
    assert [dataset.get_data_info(i)['img_path'] for i in range(2)] == [
        f'{root}/stylized/train/00_cat/{stem}.JPEG' for stem in ('a0', 'a1')
    ]


def test_a_user_file_planted_in_a_stylized_folder_survives_and_stops_a_resume(
    tmp_path, weights, style_dir
):
    root = write_root(tmp_path / 'root')
    build(root, weights, style_dir)
    planted = root / 'stylized' / 'val' / '00_cat' / 'mine.JPEG'
    planted.write_bytes(b'user file')
    with pytest.raises(OutputExistsError, match='00_cat/mine.JPEG; they are not'):
        build(root, weights, style_dir)
    assert planted.read_bytes() == b'user file'
