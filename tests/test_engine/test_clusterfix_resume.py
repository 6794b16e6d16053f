"""A ClusterFix run through tools/train.py: 2 epochs straight and 1 epoch +
``--resume`` end bit-identical, the cluster weights' buffers included, with
validation (which must not touch them) after epoch 1 of the straight run only."""

import json
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from checkpoint_entries import (
    checkpoint_entries,
    differing_entries,
    read_full_checkpoint,
)

from clad_mm.data_prep.synthetic.synwaterbirds import generate_synwaterbirds
from clad_mm.datasets import WaterbirdsDataset

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(
    REPO_ROOT, 'configs/clusterfix/efficientnet_lite0_synwaterbirds_clusterfix.py'
)
CLUSTERS_PER_CLASS = 2


def write_pseudo_labels(data_root, path):
    """Two clusters per class: the bird's place (what a good clustering finds)."""
    train = WaterbirdsDataset(data_root, 'train')
    infos = [train.get_data_info(index) for index in range(len(train))]
    ids = [CLUSTERS_PER_CLASS * info['gt_label'] + info['group'] % 2 for info in infos]
    content = {
        'format': 'clad_mm.pseudo_labels',
        'version': 1,
        'clusters_per_class': CLUSTERS_PER_CLASS,
        'num_classes': 2,
        'splits': {'train': {i['img_path']: c for i, c in zip(infos, ids)}},
        'cluster_sizes': [ids.count(c) for c in range(2 * CLUSTERS_PER_CLASS)],
    }
    with open(path, 'w') as file:
        json.dump(content, file)


def train(data_root, pseudo_labels, work_dir, num_workers, *extra_args):
    completed = subprocess.run(
        [
            sys.executable,
            'tools/train.py',
            CONFIG,
            '--work-dir',
            work_dir,
            *extra_args,
            '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'model.pseudo_labels={pseudo_labels}',
            f'train_dataloader.dataset.pipeline.1.pseudo_labels={pseudo_labels}',
            'model.backbone.init_cfg=None',  # no converted checkpoint needed
            'train_dataloader.batch_size=8',
            f'train_dataloader.num_workers={num_workers}',
            'val_dataloader.num_workers=0',
            'train_cfg.max_epochs=2',
            'param_scheduler.T_max=2',
            'default_hooks.checkpoint.max_keep_ckpts=2',
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


@pytest.fixture(scope='module')
def straight_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('clusterfix_resume')
    data_root = str(root / 'synwaterbirds')
    generate_synwaterbirds(
        data_root,
        image_size=32,
        num_train=36,
        num_val=8,
        num_test=8,
        show_progress=False,
    )
    pseudo_labels = str(root / 'pseudo_labels.json')
    write_pseudo_labels(data_root, pseudo_labels)
    work_dir = str(root / 'straight')
    train(data_root, pseudo_labels, work_dir, 2)
    return data_root, pseudo_labels, work_dir


def test_resumed_clusterfix_run_ends_bit_identical(straight_run, tmp_path):
    data_root, pseudo_labels, straight_dir = straight_run
    resumed_dir = str(tmp_path / 'resumed')
    shutil.copytree(
        straight_dir, resumed_dir, ignore=shutil.ignore_patterns('epoch_2.pth')
    )
    resume_from = osp.join(resumed_dir, 'epoch_1.pth')
    log = train(
        data_root,
        pseudo_labels,
        resumed_dir,
        0,
        '--resume',
        resume_from,
        '--cfg-options',
        'train_cfg.val_interval=2',
    )
    assert 'resumed epoch: 1' in log.stdout + log.stderr

    expected = read_full_checkpoint(osp.join(straight_dir, 'epoch_2.pth'))
    actual = read_full_checkpoint(osp.join(resumed_dir, 'epoch_2.pth'))
    entries = checkpoint_entries(expected)
    state = expected['state_dict']
    # Every training sample was seen, and the weights moved away from 1.
    assert bool(state['cluster_state.seen'].all())
    assert not bool((state['cluster_state.weights'] == 1).all())
    assert 'state_dict.pseudo_head.weight' in entries
    differing = differing_entries(expected, actual)
    assert not differing, f'{len(differing)} of {len(entries)} entries differ: ' + (
        ', '.join(differing[:8])
    )
