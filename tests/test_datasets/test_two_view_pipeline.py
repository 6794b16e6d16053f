import cv2
import numpy as np
import pytest
import torch
from mmpretrain.registry import DATASETS, TRANSFORMS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.data_prep.synthetic.synbg import CLASSES, generate_synbg
from clad_mm.utils.errors import UserError

SIZE = 32
CROP = 16


def swapped_results():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (SIZE, SIZE, 3), np.uint8)
    return dict(
        img=image,
        # The same pixels, so that any difference comes from the views.
        pos_img=image.copy(),
        fg_mask=np.ones((SIZE, SIZE), np.uint8),
        gt_label=2,
        pos_bg_label=5,
        pos_bg_path='only_bg_t/train/05_e/x.png',
        img_path='original/train/02_c/x.png',
    )


def build(**kwargs):
    return TRANSFORMS.build(dict(type='TwoViewPipeline', **kwargs))


def test_views_get_independent_random_crops_and_keep_labels():
    views = build(
        anchor_pipeline=[
            dict(type='RandomResizedCrop', scale=CROP),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        ]
    )
    np.random.seed(0)

    results = views(swapped_results())

    anchor, positive = results['img']
    assert anchor.shape == positive.shape == (CROP, CROP, 3)
    assert not np.array_equal(anchor, positive)
    assert results['gt_label'] == 2
    assert results['pos_bg_label'] == 5
    assert results['img_shape'][:2] == (CROP, CROP)
    assert 'pos_img' not in results
    assert 'fg_mask' not in results


def test_anchor_comes_first_and_each_view_gets_its_pipeline():
    views = build(
        anchor_pipeline=[],
        positive_pipeline=[dict(type='RandomFlip', prob=1.0, direction='horizontal')],
    )
    results = swapped_results()
    anchor = results['img'].copy()

    anchor_view, positive_view = views(results)['img']

    np.testing.assert_array_equal(anchor_view, anchor)
    np.testing.assert_array_equal(positive_view, anchor[:, ::-1])


def test_packed_sample_holds_two_inputs_and_the_background_label():
    pipeline = [
        build(anchor_pipeline=[dict(type='RandomResizedCrop', scale=CROP)]),
        TRANSFORMS.build(dict(type='PackInputs', algorithm_keys=('pos_bg_label',))),
    ]
    results = swapped_results()
    for transform in pipeline:
        results = transform(results)

    inputs = results['inputs']
    assert isinstance(inputs, list) and len(inputs) == 2
    assert all(view.shape == (3, CROP, CROP) for view in inputs)
    sample = results['data_samples']
    assert sample.pos_bg_label == 5
    assert sample.gt_label.tolist() == [2]


def test_missing_positive_is_a_clear_key_error():
    results = swapped_results()
    del results['pos_img']

    with pytest.raises(UserError, match="'pos_img'.*BackgroundSwap"):
        build(anchor_pipeline=[])(results)


def test_a_view_dropping_the_sample_drops_it():
    views = build(anchor_pipeline=[], positive_pipeline=[lambda results: None])

    assert views(swapped_results()) is None


@pytest.fixture(scope='module')
def synbg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synbg'))
    generate_synbg(
        root, image_size=SIZE, train_per_class=3, test_per_class=2, show_progress=False
    )
    return root


def clad_dataset(root, pipeline_tail, background_dir=None):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadForegroundMask'),
        dict(type='BackgroundSwap', background_root=f'{root}/only_bg_t/train'),
        *pipeline_tail,
    ]
    return DATASETS.build(
        dict(
            type='BGChallengeTrainDataset',
            data_root=root,
            background_dir=background_dir,
            pipeline=pipeline,
        )
    )


def test_swap_on_the_dataset_pastes_its_masked_foreground(synbg_root):
    dataset = clad_dataset(synbg_root, [])
    swap = dataset.pipeline.transforms[2]
    assert swap.class_folders == dataset.metainfo['class_folders']

    np.random.seed(0)
    for index in range(len(dataset)):
        results = dataset[index]
        inside = results['fg_mask'] == 1
        donor = cv2.imread(results['pos_bg_path'])
        assert 0 < inside.sum() < inside.size
        np.testing.assert_array_equal(
            results['pos_img'][inside], results['img'][inside]
        )
        np.testing.assert_array_equal(results['pos_img'][~inside], donor[~inside])
        assert results['pos_bg_label'] != results['gt_label']
        assert (
            results['pos_bg_path'].split('/')[-2] == (CLASSES[results['pos_bg_label']])
        )


@pytest.mark.parametrize('background_dir', [None, 'only_bg_t'])
def test_full_clad_pipeline_through_the_dataset(synbg_root, background_dir):
    dataset = clad_dataset(
        synbg_root,
        [
            dict(
                type='TwoViewPipeline',
                anchor_pipeline=[
                    dict(type='RandomResizedCrop', scale=CROP),
                    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                ],
            ),
            dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
        ],
        background_dir=background_dir,
    )

    np.random.seed(0)
    for index in range(len(dataset)):
        packed = dataset[index]
        inputs, sample = packed['inputs'], packed['data_samples']
        assert len(inputs) == 2
        assert all(view.dtype == torch.uint8 for view in inputs)
        assert all(view.shape == (3, CROP, CROP) for view in inputs)
        label = sample.gt_label.item()
        assert label == index // 3
        assert sample.pos_bg_label in set(range(len(CLASSES))) - {label}
