"""BackgroundSwap, TextureSwap and LoadStyleImage draw from the dataset's root.

The shipped configs name no donor folder: the transforms take it from the
``data_root`` and ``split`` that ``BGChallengeTrainDataset`` records in each
sample, so ``--cfg-options train_dataloader.dataset.data_root=X`` moves the
donors with the images.
"""

import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS, TRANSFORMS

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.data_prep.synthetic.synbg_texture import generate_synbg_texture
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def synbg_roots(tmp_path_factory):
    roots = []
    for name in ('first', 'second'):
        root = str(tmp_path_factory.mktemp(name))
        generate_synbg(
            root,
            image_size=16,
            train_per_class=2,
            test_per_class=2,
            show_progress=False,
        )
        roots.append(root)
    return roots


def dataset_with_pipeline_up_to(config, transform_type, data_root):
    """The config's training set at data_root, its pipeline cut after a transform."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    init_default_scope('mmpretrain')  # MultiView builds from the default scope
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': data_root})
    dataset_cfg = cfg.train_dataloader.dataset
    types = [transform['type'] for transform in dataset_cfg.pipeline]
    dataset_cfg.pipeline = dataset_cfg.pipeline[: types.index(transform_type) + 1]
    return DATASETS.build(dataset_cfg)


@pytest.mark.parametrize(
    'config, transform_type, folder, path_key',
    [
        ('clad/resnet18_synbg_clad.py', 'BackgroundSwap', 'only_bg_t', 'pos_bg_path'),
        ('s_clad/resnet50_in9_sclad.py', 'LoadStyleImage', 'original', 'style_path'),
    ],
)
def test_overridden_data_root_moves_the_donors(
    synbg_roots, config, transform_type, folder, path_key
):
    np.random.seed(0)
    for data_root in synbg_roots:
        dataset = dataset_with_pipeline_up_to(config, transform_type, data_root)
        donor_folder = osp.join(data_root, folder, 'train') + osp.sep
        for index in range(len(dataset)):
            assert dataset[index][path_key].startswith(donor_folder)


def test_overridden_data_root_moves_the_textures(tmp_path):
    data_root = str(tmp_path / 'texture')
    generate_synbg_texture(
        data_root,
        image_size=16,
        train_per_class=2,
        test_per_class=2,
        show_progress=False,
    )
    dataset = dataset_with_pipeline_up_to(
        's_clad/resnet18_synbg_texture_sclad.py', 'TextureSwap', data_root
    )
    texture_folder = osp.join(data_root, 'only_texture', 'train') + osp.sep
    for index in range(len(dataset)):
        assert dataset[index]['pos_texture_path'].startswith(texture_folder)


def test_default_pool_needs_the_datasets_root_and_says_so():
    swap = TRANSFORMS.build(dict(type='BackgroundSwap'))
    results = dict(
        img=np.zeros((4, 4, 3), np.uint8), fg_mask=np.ones((4, 4), np.uint8), gt_label=0
    )
    with pytest.raises(UserError, match='data_root.*BGChallengeTrainDataset'):
        swap(results)
    with pytest.raises(RuntimeError, match='only_bg_t'):
        swap.class_folders  # noqa: B018  (not listed before the first sample)


def test_explicit_pool_folder_is_still_honoured(synbg_roots):
    first, second = synbg_roots
    explicit = osp.join(first, 'only_bg_t', 'train')
    swap = TRANSFORMS.build(dict(type='BackgroundSwap', background_root=explicit))
    dataset = DATASETS.build(
        dict(type='BGChallengeTrainDataset', data_root=second, background_dir=None)
    )
    info = dataset.get_data_info(0)
    assert (info['data_root'], info['split']) == (second, 'train')
    results = TRANSFORMS.build(dict(type='LoadForegroundMask'))(
        TRANSFORMS.build(dict(type='LoadImageFromFile'))(info)
    )
    assert swap(results)['pos_bg_path'].startswith(explicit + osp.sep)
