"""Deep metric learning end to end on a tiny SynSOP, on CPU: tools/train.py
with BGAugment and M-per-class batches, tools/test.py's clean and replaced
retrieval figures, MMPretrain's ImageRetrievalInferencer on the checkpoint,
the run checks' messages, and exact resume."""

import glob
import json
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
from checkpoint_entries import (
    checkpoint_entries,
    differing_entries,
    read_full_checkpoint,
)

from clad_mm.data_prep.synthetic.synsop import generate_synsop

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(
    REPO_ROOT,
    'configs/bgaugment/efficientnet_lite0_synsop_multi_similarity_bgaugment.py',
)
ARCFACE_CONFIG = osp.join(
    REPO_ROOT, 'configs/bgaugment/efficientnet_lite0_synsop_arcface.py'
)


def run_tool(*args, check=True, cwd=REPO_ROOT):
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f'{args} failed ({completed.returncode}):\n'
            f'{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}'
        )
    return completed


def tiny_options(data_root, *extra):
    return [
        '--cfg-options',
        # A random trunk: no converted ImageNet checkpoint needed.
        'model.image_encoder.0.init_cfg=None',
        f'train_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.dataset.pipeline.2.background_root={data_root}/backgrounds/train',
        f'test_dataloader.dataset.pipeline.1.transforms.1.background_root={data_root}/backgrounds/test',
        'train_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        *extra,
    ]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('dml')
    data_root = str(root / 'synsop')
    generate_synsop(
        data_root,
        image_size=32,
        train_classes=8,
        test_classes=6,
        images_per_class=4,
        pool_size=4,
        show_progress=False,
    )
    work_dir = str(root / 'work')
    run_tool('tools/train.py', CONFIG, '--work-dir', work_dir, *tiny_options(data_root))
    return data_root, work_dir


def test_test_tool_reports_clean_and_replaced_figures(trained):
    data_root, work_dir = trained
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    completed = run_tool(
        'tools/test.py',
        CONFIG,
        checkpoint,
        '--work-dir',
        osp.join(work_dir, 'test'),
        *tiny_options(data_root),
    )
    (path,) = glob.glob(osp.join(work_dir, 'test', '*', 'retrieval.json'))
    with open(path) as f:
        results = json.load(f)
    assert results['config'] == CONFIG and results['checkpoint'] == checkpoint
    assert results['retrieval/replaced/num_draws'] == 5
    for setting in ('clean', 'replaced'):
        for figure in ('MAP@R', 'P@1', 'R-Precision', 'Recall@1', 'Recall@8'):
            assert 0.0 <= results[f'retrieval/{setting}/{figure}'] <= 100.0
    assert results['retrieval/replaced/MAP@R_std'] >= 0.0
    assert '| clean |' in completed.stdout
    assert '| replaced (mean ± std over 5 draws) |' in completed.stdout


def test_imageretrievalinferencer_finds_a_gallery_image_from_the_checkpoint(
    trained, tmp_path
):
    data_root, work_dir = trained
    # MMPretrain's inferencer with the config and the trained checkpoint; the
    # gallery is a folder of test photos, the query one of them. It runs in a
    # folder without the config's data (no background pool, as in a fresh
    # clone).
    assert not osp.exists(osp.join(tmp_path, 'data'))
    code = f'''
import glob, clad_mm
from mmpretrain import ImageRetrievalInferencer
gallery = sorted(glob.glob("{data_root}/*_final/*.JPG"))[:12]
inferencer = ImageRetrievalInferencer(
    "{CONFIG}", prototype=gallery, pretrained="{work_dir}/epoch_1.pth", device="cpu")
(result,) = inferencer(gallery[5], topk=3)
print("TOP", [m["sample"]["img_path"] == gallery[5] for m in result][0], len(result),
      round(float(result[0]["match_score"]), 4))
'''
    completed = run_tool('-c', code, cwd=str(tmp_path))
    # (The progress bar may end without a newline before the print.)
    top = re.search(r'TOP \S+ \S+ \S+', completed.stdout)
    # The query is in the gallery: it is its own best match (cosine 1).
    assert top is not None and top.group() == 'TOP True 3 1.0', completed.stdout[-2000:]


def test_sampler_batch_size_must_match_the_dataloaders(trained, tmp_path):
    data_root, _ = trained
    completed = run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        str(tmp_path),
        *tiny_options(data_root, 'train_dataloader.batch_size=16'),
        check=False,
    )
    assert completed.returncode == 1
    assert 'Traceback' not in completed.stderr
    assert (
        'train_dataloader.sampler.batch_size=32 but train_dataloader.batch_size=16'
        in (completed.stderr)
    )


def test_too_few_proxies_are_named_by_their_config_key(trained, tmp_path):
    data_root, _ = trained
    options = tiny_options(
        data_root,
        'model.head.loss.num_classes=5',
        # m = 1: 8 images of 8 classes in a batch.
        'train_dataloader.batch_size=8',
        'train_dataloader.sampler.batch_size=8',
    )
    # The ArcFace config has no BGAugment step: drop that option.
    options = [o for o in options if 'pipeline.2.background_root' not in o]
    completed = run_tool(
        'tools/train.py',
        ARCFACE_CONFIG,
        '--work-dir',
        str(tmp_path),
        *options,
        check=False,
    )
    assert completed.returncode == 1
    assert 'Traceback' not in completed.stderr
    assert 'model.head.loss.num_classes=5' in completed.stderr
    assert 'set model.head.loss.num_classes=8' in completed.stderr


ARCFACE_BGAUGMENT_CONFIG = osp.join(
    REPO_ROOT, 'configs/bgaugment/efficientnet_lite0_synsop_arcface_bgaugment.py'
)


def train_arcface(data_root, work_dir, max_epochs, num_workers, *extra_args):
    options = [
        option.replace(
            'train_cfg.max_epochs=1', f'train_cfg.max_epochs={max_epochs}'
        ).replace(
            'train_dataloader.num_workers=0',
            f'train_dataloader.num_workers={num_workers}',
        )
        for option in tiny_options(
            data_root,
            'model.head.loss.num_classes=8',
            'train_dataloader.batch_size=8',
            'train_dataloader.sampler.batch_size=8',
        )
    ]
    return run_tool(
        'tools/train.py',
        ARCFACE_BGAUGMENT_CONFIG,
        '--work-dir',
        work_dir,
        *extra_args,
        *options,
    )


def test_resume_is_exact_with_bgaugment_m_per_class_and_proxies(trained, tmp_path):
    # 2 epochs straight (2 workers) vs 1 epoch + --resume (0 workers): the
    # background draws, the M-per-class order and the ArcFace proxies with
    # their Adam moments all end bit-identical.
    data_root, _ = trained
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    train_arcface(data_root, straight, 2, 2)
    shutil.copytree(straight, resumed, ignore=shutil.ignore_patterns('epoch_2.pth'))
    log = train_arcface(
        data_root, resumed, 2, 0, '--resume', osp.join(resumed, 'epoch_1.pth')
    )
    assert 'resumed epoch: 1' in log.stdout + log.stderr
    expected = read_full_checkpoint(osp.join(straight, 'epoch_2.pth'))
    actual = read_full_checkpoint(osp.join(resumed, 'epoch_2.pth'))
    entries = checkpoint_entries(expected)
    assert 'state_dict.head.loss_module.W' in entries
    assert not differing_entries(expected, actual)


# Runs in a fresh interpreter: plain MMPretrain only.
PLAIN_RETRIEVAL_SCRIPT = r"""
import json, sys
import torch
from mmpretrain import ImageRetrievalInferencer

config, weights, query, gallery = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
torch.load(weights, weights_only=True)  # the default safe loading, no allowlist
inferencer = ImageRetrievalInferencer(
    config, prototype=gallery, pretrained=weights, device='cpu')
(result,) = inferencer(query, topk=len(gallery))
# The inferencer's progress bar may end without a newline.
print('\nRESULT', json.dumps({
    'ranking': [[m['sample']['img_path'], float(m['match_score'])] for m in result],
    'clad_mm_imported': any(name.startswith('clad_mm') for name in sys.modules),
}))
"""


def test_exported_retriever_ranks_the_gallery_the_same_without_clad_mm(
    trained, run_cli, tmp_path
):
    from mmpretrain import ImageRetrievalInferencer

    data_root, work_dir = trained
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    out_dir = tmp_path / 'plain'
    result = run_cli('model_converters/export_plain.py', CONFIG, checkpoint, out_dir)
    assert result.status == 0, result.stderr
    gallery = sorted(glob.glob(f'{data_root}/*_final/*.JPG'))[:12]
    query = gallery[5]
    completed = run_tool(
        '-c',
        PLAIN_RETRIEVAL_SCRIPT,
        str(out_dir / 'config.py'),
        str(out_dir / 'model.pth'),
        query,
        *gallery,
        cwd=str(tmp_path),
    )
    plain = json.loads(completed.stdout.split('\nRESULT ')[-1])
    assert plain['clad_mm_imported'] is False

    # The training checkpoint through clad_mm's DMLRetriever, same gallery.
    inferencer = ImageRetrievalInferencer(
        CONFIG, prototype=gallery, pretrained=checkpoint, device='cpu'
    )
    (expected,) = inferencer(query, topk=len(gallery))
    assert [path for path, _ in plain['ranking']] == [
        match['sample']['img_path'] for match in expected
    ]
    assert plain['ranking'][0][0] == query
    scores = [score for _, score in plain['ranking']]
    assert scores == pytest.approx(
        [float(match['match_score']) for match in expected], abs=1e-5
    )
