"""LoadStyleImage appends an AdaIN style image of another class as a third view."""

import os.path as osp
from collections import Counter

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import TRANSFORMS

from clad_mm.datasets.transforms.load_style_image import LoadStyleImage
from clad_mm.utils.errors import UserError

ANCHOR_SIZE = (20, 20)
CONTENT_SIZE = (12, 16)  # H, W; differs from the anchor's on purpose.
POOL_FOLDERS = ('01_b', '00_a', '02_c')
SORTED_FOLDERS = ('00_a', '01_b', '02_c')


def style_image(label, index, size=CONTENT_SIZE):
    rng = np.random.default_rng([label, index])
    return rng.integers(0, 256, (*size, 3), np.uint8)


def make_pool(root, folders=POOL_FOLDERS, size=CONTENT_SIZE):
    """Class folders of lossless random styles, ``style_<label>_<index>.png``."""
    for folder in folders:
        label = int(folder[:2])
        for index in range(2):
            path = root / folder / f'style_{label}_{index}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), style_image(label, index, size))
    return str(root)


def two_views(label=1, dtype=np.uint8):
    rng = np.random.default_rng(7)
    return dict(
        img=[
            rng.integers(0, 256, (*ANCHOR_SIZE, 3)).astype(dtype),
            rng.integers(0, 256, (*CONTENT_SIZE, 3)).astype(dtype),
        ],
        img_path=f'data/original/train/{SORTED_FOLDERS[label]}/x.png',
        gt_label=label,
    )


def test_style_is_appended_after_the_two_views_unchanged(tmp_path):
    load = LoadStyleImage(make_pool(tmp_path))
    results = two_views()
    anchor, content = (view.copy() for view in results['img'])

    results = load(results)

    assert len(results['img']) == 3
    np.testing.assert_array_equal(results['img'][0], anchor)
    np.testing.assert_array_equal(results['img'][1], content)
    _, label, index = osp.splitext(osp.basename(results['style_path']))[0].split('_')
    np.testing.assert_array_equal(
        results['img'][2], style_image(int(label), int(index))
    )


def test_style_label_is_the_class_folder_of_the_style_used(tmp_path):
    load = LoadStyleImage(make_pool(tmp_path))
    assert load.class_folders == SORTED_FOLDERS
    np.random.seed(0)
    for _ in range(20):
        results = load(two_views(label=0))
        folder = osp.basename(osp.dirname(results['style_path']))
        assert results['pos_texture_label'] == SORTED_FOLDERS.index(folder) != 0


def test_style_class_covers_every_other_class_and_never_the_anchors(tmp_path):
    load = LoadStyleImage(make_pool(tmp_path))
    np.random.seed(0)
    for label in range(len(SORTED_FOLDERS)):
        counts = Counter(
            load(two_views(label=label))['pos_texture_label'] for _ in range(200)
        )
        assert set(counts) == set(range(len(SORTED_FOLDERS))) - {label}
        # Uniform over 2 classes: 100 expected, 60 is 5.7 sigma off.
        assert min(counts.values()) > 60


@pytest.mark.parametrize('dtype', [np.uint8, np.float32])
def test_style_of_another_size_is_resized_to_the_content_view(tmp_path, dtype):
    # A constant image stays constant under any resize.
    for folder in ('00_a', '01_b'):
        (tmp_path / folder).mkdir()
        cv2.imwrite(
            str(tmp_path / folder / 'style.png'),
            np.full((40, 10, 3), (10, 20, 30), np.uint8),
        )
    load = LoadStyleImage(str(tmp_path))

    style = load(two_views(label=0, dtype=dtype))['img'][2]

    assert style.shape == (*CONTENT_SIZE, 3) and style.dtype == dtype
    assert (style == np.array([10, 20, 30])).all()


def test_random_mode_draws_any_image_and_labels_minus_one(tmp_path):
    expected = {tmp_path / 'painting.jpg', tmp_path / 'a' / 'sketch.png'}
    for path in expected:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    load = LoadStyleImage(str(tmp_path), style_choice='random')
    results = two_views()
    del results['gt_label']

    np.random.seed(0)
    outputs = [load(dict(results, img=list(results['img']))) for _ in range(30)]

    assert {output['pos_texture_label'] for output in outputs} == {-1}
    assert {output['style_path'] for output in outputs} == set(map(str, expected))


def test_works_after_mmpretrains_multiview(tmp_path):
    results = two_views(label=2)
    results['img'] = results['img'][0]
    # MultiView builds its transforms in the default scope's registry.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        multiview = TRANSFORMS.build(
            dict(
                type='MultiView',
                num_views=2,
                transforms=[[dict(type='RandomResizedCrop', scale=8)]],
            )
        )
        results = LoadStyleImage(make_pool(tmp_path))(multiview(results))

    assert [view.shape for view in results['img']] == [(8, 8, 3)] * 3


def test_single_image_instead_of_views_is_a_clear_error(tmp_path):
    load = LoadStyleImage(make_pool(tmp_path))
    results = two_views()
    results['img'] = results['img'][0]

    with pytest.raises(ValueError, match=r'MultiView\(num_views=2\).*\(20, 20, 3\)'):
        load(results)


def test_missing_gt_label_is_a_clear_key_error(tmp_path):
    load = LoadStyleImage(make_pool(tmp_path))
    results = two_views()
    del results['gt_label']

    with pytest.raises(UserError, match="LoadStyleImage needs 'gt_label'"):
        load(results)


def test_pool_with_one_class_is_an_error_naming_it(tmp_path):
    pool = make_pool(tmp_path, folders=('00_a',))

    with pytest.raises(ValueError, match='style pool .* at least two'):
        LoadStyleImage(pool)


def test_unknown_style_choice_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='style_choice'):
        LoadStyleImage(make_pool(tmp_path), style_choice='same_class')
