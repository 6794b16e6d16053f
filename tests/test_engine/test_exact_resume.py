"""Issue 13 §4: training 2 epochs straight and 1 epoch + ``--resume`` end with
the same checkpoint, bit for bit, through tools/train.py on CPU.

The CLAD config's pipeline draws (BackgroundSwap's donors, the anchor's
flips) and, with stochastic depth switched on, the model side are random.
The uninterrupted run uses 2 DataLoader workers, the resumed runs 0 and 2,
so the test also shows that the worker count does not change what is
trained.
"""

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
from tiny_data import make_tiny_synbg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
STRAIGHT_WORKERS = 2


def train(data_root, work_dir, max_epochs, num_workers, *extra_args):
    completed = subprocess.run(
        [
            sys.executable,
            'tools/train.py',
            CLAD_CONFIG,
            '--work-dir',
            work_dir,
            *extra_args,
            '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}/test_set',
            'train_dataloader.batch_size=4',
            # Stochastic depth: model-side draws, which the training
            # process's random state (DeterministicRandomStateHook) decides.
            'model.backbone.drop_path_rate=0.2',
            f'train_dataloader.num_workers={num_workers}',
            'val_dataloader.num_workers=0',
            f'train_cfg.max_epochs={max_epochs}',
            # Validation after epoch 1 in the uninterrupted run only: it must
            # not change what epoch 2 trains.
            'train_cfg.val_interval=1',
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
    root = tmp_path_factory.mktemp('exact_resume')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root, seed=3)
    work_dir = str(root / 'straight')
    train(data_root, work_dir, 2, STRAIGHT_WORKERS)
    return data_root, work_dir


@pytest.mark.parametrize('resume_workers', [0, 2])
def test_resumed_run_ends_bit_identical(straight_run, tmp_path, resume_workers):
    data_root, straight_dir = straight_run
    resumed_dir = str(tmp_path / 'resumed')
    shutil.copytree(
        straight_dir, resumed_dir, ignore=shutil.ignore_patterns('epoch_2.pth')
    )
    resume_from = osp.join(resumed_dir, 'epoch_1.pth')
    log = train(data_root, resumed_dir, 2, resume_workers, '--resume', resume_from)
    assert 'resumed epoch: 1' in log.stdout + log.stderr

    expected = read_full_checkpoint(osp.join(straight_dir, 'epoch_2.pth'))
    actual = read_full_checkpoint(osp.join(resumed_dir, 'epoch_2.pth'))
    entries = checkpoint_entries(expected)
    # The comparison covers the negative dictionary and Adam's moments.
    assert 'state_dict.dictionary.queues' in entries
    assert any(name.endswith('exp_avg_sq') for name in entries)
    differing = differing_entries(expected, actual)
    assert not differing, f'{len(differing)} of {len(entries)} entries differ: ' + (
        ', '.join(differing[:8])
    )
    assert expected['meta']['epoch'] == actual['meta']['epoch'] == 2
    assert expected['meta']['iter'] == actual['meta']['iter']
