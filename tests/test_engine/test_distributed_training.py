"""Issue 13 §6: a 2-process gloo run of the CLAD config through
tools/dist_train.sh on CPU; every rank holds the same negative dictionary,
the one the checkpoint saved. BatchNorm statistics stay per rank (no
SyncBN on CPU), and the checkpoint keeps rank 0's."""

import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from gloo_ranks import free_port
from mmengine.runner import CheckpointLoader
from tiny_data import make_tiny_synbg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
HELPER_DIR = osp.dirname(osp.abspath(__file__))  # rank_state_dump.py

DUMPING_CONFIG = """
_base_ = [{base!r}]
custom_imports = dict(
    imports=['clad_mm', 'rank_state_dump'], allow_failed_imports=False
)
custom_hooks = [
    dict(type='DeterministicRandomStateHook'),
    dict(type='NegativeDictionaryHook', interval=10),
    dict(type='RankStateDumpHook', out_dir={out_dir!r}),
]
"""


@pytest.fixture(scope='module')
def two_rank_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('dist')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root, seed=4)
    config = root / 'clad_dump.py'
    config.write_text(DUMPING_CONFIG.format(base=CLAD_CONFIG, out_dir=str(root)))
    work_dir = str(root / 'work')
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join(
            [HELPER_DIR, REPO_ROOT, os.environ.get('PYTHONPATH', '')]
        ),
    )
    completed = subprocess.run(
        [
            'bash',
            'tools/dist_train.sh',
            str(config),
            '2',
            '--work-dir',
            work_dir,
            '--no-validate',
            '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            'train_dataloader.batch_size=3',
            'train_dataloader.num_workers=0',
            'train_cfg.max_epochs=1',
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    ranks = [
        torch.load(osp.join(root, f'rank{rank}.pth'), weights_only=True)
        for rank in (0, 1)
    ]
    checkpoint = CheckpointLoader.load_checkpoint(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu'
    )
    return ranks, checkpoint


def test_every_rank_holds_the_checkpoints_dictionary(two_rank_run):
    (rank0, rank1), checkpoint = two_rank_run
    saved = checkpoint['state_dict']
    names = [name for name in saved if name.startswith('dictionary.')]
    assert 'dictionary.queues' in names
    # 18 samples, 3 per rank and step: 3 steps of 6 enqueued keys.
    assert checkpoint['meta']['iter'] == 3
    for name in names:
        assert torch.equal(rank0[name], saved[name]), name
        assert torch.equal(rank1[name], saved[name]), name
    # Not trivially equal: the queues were written (both ranks' keys, gathered).
    assert int(saved['dictionary.num_written'].sum()) > 0
    assert saved['dictionary.queues'].abs().sum() > 0


def test_weights_agree_and_batchnorm_statistics_are_rank_0s(two_rank_run):
    (rank0, rank1), checkpoint = two_rank_run
    saved = checkpoint['state_dict']
    running = [name for name in saved if name.endswith(('running_mean', 'running_var'))]
    assert running
    # DDP averages the gradients: the weights are the same on every rank.
    weights = [name for name in saved if name.endswith('conv1.weight')]
    for name in weights:
        assert torch.equal(rank0[name], rank1[name]), name
    # Each rank's BatchNorm layers saw only its own batches (no SyncBN on
    # CPU, no buffer broadcast): the statistics differ, and the checkpoint
    # holds rank 0's.
    for name in running:
        assert torch.equal(saved[name], rank0[name]), name
    assert all(not torch.equal(rank0[name], rank1[name]) for name in running)


@pytest.mark.skipif(torch.cuda.is_available(), reason='SyncBatchNorm runs on GPUs')
def test_sync_bn_on_cpu_is_refused_before_training(run_cli, monkeypatch, tmp_path):
    # torch 2.14's SyncBatchNorm raises on CPU tensors in its first forward;
    # the tool says so before any process group exists.
    monkeypatch.setenv('LOCAL_RANK', '0')  # train.py sets it; keep it scoped
    result = run_cli(
        'train.py',
        CLAD_CONFIG,
        '--launcher',
        'pytorch',
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        'sync_bn=torch',
    )
    result.assert_user_error("sync_bn='torch'", 'GPUs', 'CPU')
