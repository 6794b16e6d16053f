"""MMPretrain's own entry points and export_plain.

A tiny CLAD model is trained by MMPretrain's own ``tools/train.py`` (the copy
its wheel ships for ``mim train``), whose config names clad_mm only through
``custom_imports``. export_plain turns the checkpoint into a plain MMPretrain
config and weights, which a Python process that never imports clad_mm loads
with torch's default safe loading, MMPretrain's inferencer, ``init_model``
and MMPretrain's own ``tools/test.py``, predicting what the training
checkpoint predicts."""

import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import mmpretrain
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from clad_mm.apis import InferencePipeline, load_classifier, read_checkpoint
from clad_mm.data_prep.synthetic.synbg import generate_synbg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = 'model_converters/export_plain.py'
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
#: MMPretrain's tools/train.py and tools/test.py, as its wheel ships them.
MMPRETRAIN_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')

# Runs in a fresh interpreter: plain MMPretrain only.
PLAIN_SCRIPT = r"""
import json, runpy, sys
import mmengine
import torch
from mmpretrain.apis import ImageClassificationInferencer, init_model

config, weights, test_tool, test_root, work_dir = sys.argv[1:6]
images = sys.argv[6:]
torch.load(weights, weights_only=True)  # the default safe loading, no allowlist
inferencer = ImageClassificationInferencer(config, pretrained=weights, device='cpu')
scores = [r['pred_scores'].tolist() for r in inferencer(images)]
model = init_model(config, weights, device='cpu')
sys.argv = [
    test_tool, config, weights, '--work-dir', work_dir,
    '--out', f'{work_dir}/predictions.pkl',
    '--cfg-options', f'test_dataloader.dataset.data_root={test_root}',
    'test_dataloader.num_workers=0',
]
runpy.run_path(test_tool, run_name='__main__')
tested = {
    sample['img_path']: (sample['pred_score'].tolist(), int(sample['gt_label']))
    for sample in mmengine.load(f'{work_dir}/predictions.pkl')
}
# The inferencer's progress bar may end without a newline.
print('\nRESULT', json.dumps({
    'scores': scores,
    'tested': tested,
    'classes': list(model._dataset_meta['classes']),
    'clad_mm_imported': any(name.startswith('clad_mm') for name in sys.modules),
}))
"""


@pytest.fixture(scope='module')
def trained_clad(tmp_path_factory):
    root = tmp_path_factory.mktemp('export_plain')
    data_root = str(root / 'synbg')
    generate_synbg(
        data_root,
        image_size=32,
        train_per_class=3,
        test_per_class=2,
        seed=2,
        show_progress=False,
    )
    work_dir = str(root / 'work')
    completed = subprocess.run(
        [
            sys.executable,
            osp.join(MMPRETRAIN_TOOLS, 'train.py'),
            CLAD_CONFIG,
            '--work-dir',
            work_dir,
            '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}/test_set',
            # One iteration: the 27 training images in one batch.
            'train_dataloader.batch_size=27',
            # MMPretrain's tool, unlike clad_mm's, leaves persistent_workers
            # as the config sets it, which needs workers.
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=1',
            'default_hooks.logger.interval=1',
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return root, data_root, work_dir, completed.stdout + completed.stderr


def test_mmpretrains_own_train_tool_trains_a_clad_config(trained_clad):
    _, _, work_dir, log = trained_clad
    assert 'Epoch(train) [1][1/1]' in log and 'loss_infonce' in log
    assert 'bg_challenge/mixed_rand' in log  # BGChallengeMetric validated
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_exported_clad_model_predicts_the_same_without_clad_mm(
    trained_clad, run_cli, tmp_path
):
    root, data_root, work_dir, _ = trained_clad
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    out_dir = tmp_path / 'plain'
    result = run_cli(TOOL, CLAD_CONFIG, checkpoint, str(out_dir))
    assert result.status == 0, result.stderr

    plain = Config.fromfile(str(out_dir / 'config.py'))
    assert plain.model.type == 'ImageClassifier'
    assert 'custom_imports' not in plain and 'clad_mm' not in plain.pretty_text
    exported = torch.load(str(out_dir / 'model.pth'), weights_only=True)
    assert set(exported) == {'state_dict', 'meta'}
    assert all(key.startswith(('backbone.', 'head.')) for key in exported['state_dict'])
    assert not any('dictionary' in key for key in exported['state_dict'])

    rng = np.random.default_rng(0)
    # MMPretrain's test tool reads a folder of class folders: SynBG's
    # ORIGINAL split.
    test_root = osp.join(data_root, 'test_set', 'original', 'val')
    images = []
    for index in range(2):
        path = str(tmp_path / f'photo {index}.png')
        cv2.imwrite(path, rng.integers(0, 256, (32, 32, 3), np.uint8))
        images.append(path)
    completed = subprocess.run(
        [
            sys.executable,
            '-c',
            PLAIN_SCRIPT,
            str(out_dir / 'config.py'),
            str(out_dir / 'model.pth'),
            osp.join(MMPRETRAIN_TOOLS, 'test.py'),
            test_root,
            str(tmp_path / 'mmpretrain_test'),
            *images,
        ],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = json.loads(completed.stdout.split('\nRESULT ')[-1])
    assert loaded['clad_mm_imported'] is False

    # The training checkpoint, run by clad_mm's own loader on the same files.
    model = load_classifier(CLAD_CONFIG, checkpoint)
    pipeline = InferencePipeline(Config.fromfile(CLAD_CONFIG))
    with torch.no_grad():
        batch = default_collate([pipeline(path) for path in images])
        expected = [s.pred_score.tolist() for s in model.test_step(batch)]
    np.testing.assert_allclose(loaded['scores'], expected, atol=1e-5)
    _, meta = read_checkpoint(checkpoint)
    classes = list(meta['dataset_meta']['classes'])
    assert loaded['classes'] == classes

    # MMPretrain's tools/test.py: every test image, labelled by the index of
    # its class folder (00_circle, 01_..., in the order of the classes).
    tested = loaded['tested']
    paths = sorted(tested)
    assert len(paths) == 9 * 2
    folders = sorted(os.listdir(test_root))
    for path in paths:
        assert tested[path][1] == folders.index(osp.basename(osp.dirname(path)))
    with torch.no_grad():
        batch = default_collate([pipeline(path) for path in paths])
        expected = [s.pred_score.tolist() for s in model.test_step(batch)]
    np.testing.assert_allclose([tested[p][0] for p in paths], expected, atol=1e-5)


def test_a_model_that_is_no_classifier_or_retriever_is_refused_by_name(
    run_cli, tmp_path
):
    config = tmp_path / 'mocov2.py'
    config.write_text("model = dict(type='MoCo', backbone=dict(type='ResNet'))\n")
    result = run_cli(TOOL, config, tmp_path / 'missing.pth', tmp_path / 'o')
    result.assert_user_error(
        "model.type='MoCo' is neither an ImageClassifier nor an ImageToImageRetriever"
    )


def test_a_clad_mm_transform_in_the_test_pipeline_is_named():
    from clad_mm.apis.plain_export import plain_config
    from clad_mm.utils.errors import UserError

    cfg = Config.fromfile(CLAD_CONFIG)
    cfg.test_dataloader.dataset.pipeline.insert(1, dict(type='LoadForegroundMask'))
    with pytest.raises(UserError) as raised:
        plain_config(cfg)
    assert "test_pipeline[1].type='LoadForegroundMask' is a clad_mm component" in str(
        raised.value
    )
    # The CLAD model itself becomes a plain ImageClassifier of the same parts.
    del cfg.test_dataloader.dataset.pipeline[1]
    plain = plain_config(cfg)
    assert plain.model.type == 'ImageClassifier'
    assert plain.model.backbone == {
        k: v for k, v in cfg.model.backbone.items() if k != 'init_cfg'
    }
    assert plain.model.head == cfg.model.head
    assert plain.model.data_preprocessor.type == 'ClsDataPreprocessor'
    assert 'dictionary' not in plain.model


def test_a_retriever_becomes_mmpretrains_retriever_of_the_same_encoder():
    from clad_mm.apis.plain_export import plain_config
    from clad_mm.utils.errors import UserError

    path = osp.join(
        REPO_ROOT, 'configs/bgaugment/efficientnet_lite0_synsop_triplet_bgaugment.py'
    )
    cfg = Config.fromfile(path)
    plain = plain_config(cfg)
    assert plain.model.type == 'ImageToImageRetriever'
    backbone, neck = plain.model.image_encoder
    assert backbone == {
        k: v for k, v in cfg.model.image_encoder[0].items() if k != 'init_cfg'
    }
    # EmbeddingNeck(1280 -> 128) as MMPretrain's LinearNeck of the same map.
    assert neck == dict(
        type='LinearNeck',
        in_channels=1280,
        out_channels=128,
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None,
    )
    assert 'head' not in plain.model and 'test_evaluator' not in plain
    # The metric's background-replaced copies are left out of inference.
    assert [step['type'] for step in plain.test_pipeline] == [
        'LoadImageFromFile',
        'PackInputs',
    ]
    assert plain.model.prototype.dataset.data_root == 'data/gallery'

    cfg.model.similarity_fn = 'dot'
    with pytest.raises(UserError, match="similarity_fn='dot'.*cosine_similarity"):
        plain_config(cfg)
