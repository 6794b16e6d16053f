"""The attention score of Kobs & Hotho (ICMV 2022, §6): maths, data, tool."""

import json
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from PIL import Image
from pytorch_metric_learning.distances import CosineSimilarity, LpDistance

import clad_mm  # noqa: F401  (registers the retriever, dataset and transforms)
from clad_mm.analysis.attention_score import (
    AttentionSample,
    CleanTestSamples,
    attention_map,
    attention_score,
    distance_gradients,
    embedding_distance,
    load_retriever,
    score_attention,
)
from clad_mm.datasets.transforms.load_foreground_matte import read_matte
from clad_mm.utils.errors import UserError

TOOL = 'analysis/attention_score.py'


# ------------------------------------------------------------------ the score


def binary_mask(rows, columns, size=4):
    mask = torch.zeros(size, size)
    mask[rows, columns] = 1
    return mask


def test_attention_only_on_the_object_scores_one():
    mask = binary_mask(slice(0, 2), slice(0, 2))
    attention = torch.zeros(4, 4)
    attention[0, 0], attention[1, 1], attention[0, 1] = 1.0, 0.25, 0.5
    assert attention_score(attention, mask) == pytest.approx(1.0)


@pytest.mark.parametrize(
    'mask',
    [binary_mask(slice(0, 2), slice(0, 3)), torch.linspace(0, 1, 16).view(4, 4)],
    ids=['binary', 'soft'],
)
def test_uniform_attention_scores_zero(mask):
    assert attention_score(torch.full((4, 4), 0.7), mask) == pytest.approx(0.0)


def test_attention_only_on_the_background_scores_minus_p_over_1_minus_p():
    # Mask area p_img = 4/16; p_att = 0 -> (0 - 1/4) / (3/4) = -1/3.
    mask = binary_mask(slice(0, 2), slice(0, 2))
    attention = 1 - mask
    attention[3, 3] = 0.2
    assert attention_score(attention, mask) == pytest.approx(-1 / 3)


@pytest.mark.parametrize(
    'attention, expected',
    [
        # p_img = 1.5 / 4 = 3/8; p_att = (1*1 + 2*0.5) / 6 = 1/3:
        # (1/3 - 3/8) / (5/8) = -1/15.
        ([[1.0, 2.0], [3.0, 0.0]], -1 / 15),
        # p_att = 4 / 5: (4/5 - 3/8) / (5/8) = 0.68.
        ([[4.0, 0.0], [0.0, 1.0]], 0.68),
    ],
)
def test_soft_mask_matches_the_hand_computed_score(attention, expected):
    mask = torch.tensor([[1.0, 0.5], [0.0, 0.0]])
    assert attention_score(torch.tensor(attention), mask) == pytest.approx(expected)


@pytest.mark.parametrize(
    'attention, mask',
    [
        (torch.zeros(3, 3), binary_mask(0, 0, size=3)),  # sum(A) = 0
        (torch.rand(3, 3), torch.ones(3, 3)),  # p_img = 1
        (torch.rand(3, 3), torch.zeros(3, 3)),  # p_img = 0, no object
    ],
    ids=['no-attention', 'full-mask', 'empty-mask'],
)
def test_degenerate_cases_are_nan(attention, mask):
    assert math.isnan(attention_score(attention, mask))


def test_score_refuses_mismatched_or_out_of_range_inputs():
    with pytest.raises(ValueError, match='one size'):
        attention_score(torch.ones(2, 2), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        attention_score(torch.ones(2, 2), torch.full((2, 2), 2.0))


# ------------------------------------------------------------------ the map


def test_map_sums_absolute_copies_then_shifts_scales_by_q99_and_clips():
    # Sum over copies of |G_s| is g = 1..100; the signs differ between the
    # copies, so |sum_s G_s| (a signed sum first) would give another map.
    g = torch.arange(1.0, 101.0).view(10, 10)
    checkerboard = (torch.arange(100).view(10, 10) % 2) * 2 - 1.0
    copies = torch.stack([0.25 * g, 0.75 * g * checkerboard])
    # min g = 1; q99 by linear interpolation at 0.99 * 99 = 98.01 of the
    # sorted values: 99 + 0.01 * (100 - 99) = 99.01.
    expected = ((g - 1) / 98.01).clamp(max=1)
    got = attention_map(copies)
    torch.testing.assert_close(got, expected.double())
    assert got[9, 9] == 1 and got[9, 8] == pytest.approx(98 / 98.01)
    assert got.dtype == torch.float64


def test_map_without_spread_below_q99_marks_the_pixels_above_the_minimum():
    # 1000 pixels, one above the others: q99 equals the minimum.
    gradients = torch.full((1, 25, 40), 3.0)
    gradients[0, 4, 7] = 5.0
    expected = torch.zeros(25, 40, dtype=torch.float64)
    expected[4, 7] = 1
    torch.testing.assert_close(attention_map(gradients), expected)
    assert attention_map(torch.full((2, 3, 3), -2.0)).sum() == 0


def test_map_refuses_gradients_with_channels():
    with pytest.raises(ValueError, match=r'\(S, H, W\)'):
        attention_map(torch.ones(2, 3, 4, 4))


# ------------------------------------------------------------ the gradients


@pytest.fixture
def linear_embedding():
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(4, 3 * 2 * 3, generator=generator, dtype=torch.float64)
    image = torch.rand(3, 2, 3, generator=generator, dtype=torch.float64) * 255
    return weight, image, lambda batch: batch.flatten(1) @ weight.T


def test_noiseless_gradient_of_the_l2_distance_to_f_of_zero(linear_embedding):
    # d = |W x - W 0| = |W x|, so grad d = W^T W x / |W x|.
    weight, image, embed = linear_embedding
    gradients = distance_gradients(
        embed,
        image,
        embed(torch.zeros_like(image)[None]),
        LpDistance(normalize_embeddings=False),
        n_samples=3,
        noise_level=0.0,
    )
    embedding = weight @ image.flatten()
    expected = (weight.T @ embedding / embedding.norm()).view(1, 3, 2, 3)
    assert gradients.shape == (3, 3, 2, 3)
    torch.testing.assert_close(gradients, expected.expand(3, 3, 2, 3))


def test_each_copy_gets_its_own_noise_scaled_by_the_image_range(linear_embedding):
    # d_s = |W (x + e_s)|^2, so grad d_s = 2 W^T W (x + e_s), with
    # e_s = 0.15 (max x - min x) randn, drawn for all copies at once.
    weight, image, embed = linear_embedding
    gradients = distance_gradients(
        embed,
        image,
        torch.zeros(1, 4, dtype=torch.float64),
        LpDistance(normalize_embeddings=False, power=2),
        n_samples=5,
        noise_level=0.15,
        generator=torch.Generator().manual_seed(3),
    )
    noise = torch.randn(
        (5, 3, 2, 3), generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    noisy = image + 0.15 * (image.max() - image.min()) * noise
    expected = 2 * (noisy.flatten(1) @ weight.T @ weight).view(5, 3, 2, 3)
    torch.testing.assert_close(gradients, expected)
    assert not torch.allclose(gradients[0], gradients[1])


def test_gradients_need_a_copy(linear_embedding):
    _, image, embed = linear_embedding
    with pytest.raises(UserError, match='n_samples'):
        distance_gradients(embed, image, embed(image[None]), LpDistance(), 0)


class LinearRetriever(torch.nn.Module):
    """f(x) = w . flatten(x), a 1-d embedding; the squared distance to f(0)."""

    def __init__(self, weight):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.view(1, -1))
        self.head = torch.nn.Module()
        self.head.loss_module = torch.nn.Module()
        self.head.loss_module.distance = LpDistance(normalize_embeddings=False, power=2)

    def data_preprocessor(self, data, training):
        return data

    def extract_feat(self, inputs):
        return inputs.flatten(1) @ self.weight.T


def test_driver_averages_channels_signed_before_the_absolute_value():
    # grad d = 2 (w . x) w; per pixel the channel mean of w is
    # [[0, 1], [2, 2]] (channel 0 [[1, 1], [2, 0]], channel 1 [[-1, 1], [2, 4]]).
    # A = [[0, 0.5], [1, 1]] (min 0, q99 = 2); the mask's top row:
    # p_img = 0.5, p_att = 0.5 / 2.5 = 0.2, score = (0.2 - 0.5) / 0.5 = -0.6.
    # Averaging |grad| instead would put attention on the top-left pixel.
    weight = torch.tensor([[[1.0, 1.0], [2.0, 0.0]], [[-1.0, 1.0], [2.0, 4.0]]])
    model = LinearRetriever(weight).eval()
    mask = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    samples = [
        AttentionSample('a.png', torch.ones(2, 2, 2, dtype=torch.uint8), mask),
        AttentionSample('b.png', torch.ones(2, 2, 2, dtype=torch.uint8), 1 - mask),
    ]
    scores, maps = score_attention(
        model, samples, n_samples=2, noise_level=0.0, map_positions=[1]
    )
    assert scores == pytest.approx([-0.6, 0.6])
    assert list(maps) == [1]
    np.testing.assert_allclose(maps[1], [[0.0, 0.5], [1.0, 1.0]])


@pytest.mark.parametrize(
    'loss, distance',
    [
        (dict(type='ContrastiveLoss'), LpDistance),
        (dict(type='ArcFaceLoss', num_classes=3, embedding_size=4), CosineSimilarity),
    ],
)
def test_the_distance_is_the_losss(loss, distance):
    head = MODELS.build(dict(type='MetricLearningHead', loss=loss))
    model = torch.nn.Module()
    model.head = head
    assert type(embedding_distance(model)) is distance
    assert type(embedding_distance(torch.nn.Linear(2, 2))) is LpDistance


# ------------------------------------------------------- data and the tool


def write_sop(root, images, ext='.JPG'):
    """A Stanford Online Products layout with one test class per image pair.

    Args:
        root (Path): The data root.
        images (list[tuple[np.ndarray, np.ndarray]]): RGB uint8 images and
            their uint8 mattes.
        ext (str): The images' file suffix (the masks are PNGs).

    Returns:
        list[str]: The image paths, in the dataset's order.
    """
    lines = ['image_id class_id super_class_id path']
    paths = []
    for index, (image, matte) in enumerate(images):
        relpath = f'thing_final/{index}_0{ext}'
        class_id = 1 + index // 2
        lines.append(f'{index + 1} {class_id} 1 {relpath}')
        (root / 'thing_final').mkdir(parents=True, exist_ok=True)
        (root / 'masks' / 'thing_final').mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / relpath, quality=95)
        Image.fromarray(matte).save(root / 'masks' / 'thing_final' / f'{index}_0.png')
        paths.append(str(root / relpath))
    (root / 'Ebay_test.txt').write_text('\n'.join(lines) + '\n')
    (root / 'Ebay_train.txt').write_text(
        'image_id class_id super_class_id path\n1 100 1 thing_final/train.JPG\n'
    )
    (root / 'backgrounds').mkdir()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(
        root / 'backgrounds' / 'plain.png'
    )
    return paths


def sop_test_pipeline(root, geometry):
    return [
        dict(type='LoadImageFromFile'),
        dict(
            type='ApplyToReplacedCopies',
            transforms=[
                dict(type='LoadForegroundMatte'),
                dict(type='BGAugment', background_root=str(root / 'backgrounds')),
            ],
        ),
        *geometry,
        dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'bg_draw')),
    ]


def dataset_config(root, geometry, masks_root='masks'):
    dataset = dict(
        type='SOPRetrievalDataset',
        data_root=str(root),
        split='test',
        # The config's replaced-background copies are what the analysis drops.
        background_draws=3,
        pipeline=sop_test_pipeline(root, geometry),
    )
    if masks_root is not None:
        dataset['masks_root'] = masks_root
    return dict(test_dataloader=dict(batch_size=2, dataset=dataset))


RESIZE_AND_CROP = [
    dict(type='ResizeEdge', scale=32, edge='short'),
    dict(type='CenterCrop', crop_size=32),
]


def rectangles(num_images, height=24, width=40):
    """White off-centre rectangles on black, with the rectangle as matte."""
    images = []
    for index in range(num_images):
        matte = np.zeros((height, width), np.uint8)
        matte[3 + index : 15, 2 + 3 * index : 20 + 3 * index] = 255
        images.append((np.repeat(matte[:, :, None], 3, axis=2), matte))
    return images


def test_the_mask_follows_the_pipelines_resize_and_crop(tmp_path):
    # Lossless images equal to their mattes: after the pipeline, the mask must
    # still equal the image, pixel for pixel.
    paths = write_sop(tmp_path, rectangles(3), ext='.png')
    samples = CleanTestSamples(Config(dataset_config(tmp_path, RESIZE_AND_CROP)))
    assert len(samples) == 3  # the clean copies only
    assert samples.img_paths == paths
    for position in range(3):
        sample = samples[position]
        assert sample.image.shape == (3, 32, 32)
        assert sample.mask.dtype == torch.float32
        torch.testing.assert_close(sample.mask, sample.image[0].float() / 255)
        assert 0 < sample.mask.mean() < 1


def test_without_geometry_the_image_is_clean_and_the_mask_is_the_matte(tmp_path):
    # The background pool is plain grey: a composite would show it.
    paths = write_sop(tmp_path, rectangles(2), ext='.png')
    sample = CleanTestSamples(Config(dataset_config(tmp_path, [])))[1]
    packed_rgb = sample.image.numpy().transpose(1, 2, 0)[:, :, ::-1]
    np.testing.assert_array_equal(packed_rgb, np.asarray(Image.open(paths[1])))
    matte = read_matte(paths[1].replace('thing_final', 'masks/thing_final'))
    torch.testing.assert_close(sample.mask, torch.from_numpy(matte))


def test_max_images_spreads_over_the_test_set(tmp_path):
    paths = write_sop(tmp_path, rectangles(5), ext='.png')
    samples = CleanTestSamples(Config(dataset_config(tmp_path, [])), max_images=3)
    assert samples.img_paths == [paths[0], paths[2], paths[4]]


def test_a_test_set_without_masks_is_refused(tmp_path):
    write_sop(tmp_path, rectangles(1), ext='.png')
    config = dataset_config(tmp_path, [], masks_root=None)
    config['test_dataloader']['dataset']['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(type='PackInputs'),
    ]
    with pytest.raises(UserError, match='masks_root'):
        CleanTestSamples(Config(config))


def model_config(root, geometry, loss, embedding_size=8):
    return dict(
        model=dict(
            type='DMLRetriever',
            image_encoder=[
                dict(type='ResNet', depth=18, stem_channels=8, base_channels=8),
                dict(type='EmbeddingNeck', in_channels=64, out_channels=embedding_size),
            ],
            head=dict(type='MetricLearningHead', loss=loss),
        ),
        data_preprocessor=dict(
            mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
        ),
        **dataset_config(root, geometry),
    )


def write_model(directory, name, config, seed):
    """Writes a config file and a random-init checkpoint of its model."""
    from mmpretrain.apis import get_model

    config_path = str(directory / f'{name}.py')
    Config(config).dump(config_path)
    torch.manual_seed(seed)
    model = get_model(config_path)
    checkpoint = str(directory / f'{name}.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return config_path, checkpoint


def scene(seed, empty_mask=False):
    """A 32 x 32 textured background with a coloured disc, the disc as matte."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[:32, :32]
    disc = (rows - 14 - seed) ** 2 + (columns - 12 - 2 * seed) ** 2 < 64
    image = rng.integers(0, 120, (32, 32, 3), dtype=np.uint8)
    image[disc] = (220, 60 + 30 * seed, 40)
    matte = np.zeros((32, 32), np.uint8) if empty_mask else disc * np.uint8(255)
    return image, matte


@pytest.fixture(scope='module')
def tool_workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('attention')
    data_root = root / 'sop'
    paths = write_sop(
        data_root,
        [scene(0), scene(1), scene(2), scene(3), scene(4, empty_mask=True)],
    )
    models = [
        write_model(
            root,
            'base',
            model_config(
                data_root,
                [
                    dict(type='ResizeEdge', scale=40, edge='short'),
                    dict(type='CenterCrop', crop_size=32),
                ],
                dict(type='ContrastiveLoss'),
            ),
            seed=0,
        ),
        write_model(
            root,
            'bgaugment',
            model_config(
                data_root,
                [],
                dict(type='ArcFaceLoss', num_classes=3, embedding_size=8),
            ),
            seed=1,
        ),
    ]
    return root, paths, models


def tool_arguments(models, out_dir, *extra):
    pairs = [path for model in models for path in model]
    return (
        *pairs,
        '--names',
        'Base',
        'BGAugment',
        '--out-dir',
        out_dir,
        '--max-images',
        4,
        '--grid-images',
        3,
        '--n-samples',
        4,
        *extra,
    )


def test_tool_writes_scores_grid_and_table(tool_workspace, tmp_path, run_cli):
    _, paths, models = tool_workspace
    out_dir = tmp_path / 'out'

    result = run_cli(TOOL, *tool_arguments(models, out_dir))

    assert result.status == 0, result.stderr
    report = json.loads((out_dir / 'attention_scores.json').read_text())
    assert set(report) == {'settings', 'models'}
    assert report['settings'] == dict(
        n_samples=4, noise_level=0.15, seed=0, max_images=4
    )
    assert list(report['models']) == ['Base', 'BGAugment']
    # Four of five images, evenly spaced; the last one's mask is empty.
    kept = [paths[0], paths[1], paths[3], paths[4]]
    for name, (config, checkpoint) in zip(report['models'], models):
        entry = report['models'][name]
        assert set(entry) == {
            'config',
            'checkpoint',
            'mean',
            'std',
            'count',
            'nan_count',
            'images',
        }
        assert (entry['config'], entry['checkpoint']) == (config, checkpoint)
        assert [image['img_path'] for image in entry['images']] == kept
        scores = [image['score'] for image in entry['images']]
        assert scores[-1] is None
        assert all(-10 < score <= 1 for score in scores[:-1])
        assert (entry['count'], entry['nan_count']) == (3, 1)
        assert entry['mean'] == pytest.approx(np.mean(scores[:-1]))
        assert entry['std'] == pytest.approx(np.std(scores[:-1]))
    assert '| model | mean ± std | images |' in result.stdout
    base = report['models']['Base']
    assert (
        f'| Base | {base["mean"]:.3f} ± {base["std"]:.3f} | 3 (+1 NaN, skipped) |'
        in result.stdout
    )
    with Image.open(out_dir / 'attention_grid.png') as grid:
        assert grid.format == 'PNG'
        grid.load()
        width, height = grid.size
    assert width > height > 300  # 3 rows, 3 columns and the colour bar

    # Kept without --overwrite, replaced with it, with the same scores.
    written = (out_dir / 'attention_scores.json').read_text()
    refused = run_cli(TOOL, *tool_arguments(models, out_dir))
    refused.assert_user_error('attention_scores.json', '--overwrite')
    assert (out_dir / 'attention_scores.json').read_text() == written
    again = run_cli(TOOL, *tool_arguments(models, out_dir, '--overwrite'))
    assert again.status == 0, again.stderr
    assert json.loads((out_dir / 'attention_scores.json').read_text()) == report


@pytest.mark.parametrize(
    'arguments, fragment',
    [
        (lambda models: [models[0][0]], 'CONFIG CHECKPOINT pairs'),
        (lambda models: [*models[0], '--names', 'a', 'b'], '2 names for 1 models'),
        (lambda models: [models[0][0], 'missing.pth'], "'missing.pth'"),
    ],
)
def test_tool_states_command_line_mistakes(
    tool_workspace, tmp_path, run_cli, arguments, fragment
):
    _, _, models = tool_workspace
    result = run_cli(TOOL, *arguments(models), '--out-dir', tmp_path)
    result.assert_user_error(fragment, status=2)


def test_a_checkpoint_of_another_model_is_refused(tool_workspace):
    _, _, models = tool_workspace
    config = Config.fromfile(models[0][0])
    config.model.image_encoder[1].out_channels = 16
    with pytest.raises(UserError, match=r'does not fit.*differ in shape'):
        load_retriever(config, models[0][1])


def test_a_classifier_is_refused(tmp_path):
    config = Config(
        dict(
            model=dict(
                type='ImageClassifier',
                backbone=dict(type='ResNet', depth=18, base_channels=8),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=2, in_channels=64),
            )
        )
    )
    with pytest.raises(UserError, match='builds a ImageClassifier, not a retriever'):
        load_retriever(config, str(tmp_path / 'never_read.pth'))
