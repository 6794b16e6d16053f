"""tools/train.py and tools/test.py end to end on a tiny SynBG, on CPU."""

import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from clad_mm.data_prep.synthetic.synbg import generate_synbg
from clad_mm.evaluation import bg_gap, split_accuracies

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')


def run_tool(*args, cwd):
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f'{args} failed ({completed.returncode}):\n'
            f'{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}'
        )
    return completed


def tiny_options(data_root, max_epochs):
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}/test_set',
        f'test_dataloader.dataset.data_root={data_root}/test_set',
        'train_dataloader.batch_size=16',
        'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        f'train_cfg.max_epochs={max_epochs}',
        'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1',
    ]


def read_bg_challenge_json(test_dir):
    (run_dir,) = [d for d in os.listdir(test_dir) if osp.isdir(osp.join(test_dir, d))]
    with open(osp.join(test_dir, run_dir, 'bg_challenge.json')) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    data_root = str(root / 'synbg')
    generate_synbg(
        data_root,
        image_size=32,
        train_per_class=3,
        test_per_class=2,
        seed=1,
        show_progress=False,
    )
    return root, data_root


@pytest.fixture(scope='module')
def trained(workspace):
    root, data_root = workspace
    work_dir = str(root / 'work')
    run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        work_dir,
        *tiny_options(data_root, max_epochs=1),
        cwd=REPO_ROOT,
    )
    return work_dir


def test_train_saves_checkpoint_and_resumes(workspace, trained):
    root, data_root = workspace
    assert osp.isfile(osp.join(trained, 'epoch_1.pth'))
    resumed = run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        trained,
        '--resume',
        *tiny_options(data_root, max_epochs=2),
        cwd=REPO_ROOT,
    )
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 1' in log
    assert 'Epoch(train) [2]' in log
    assert 'Epoch(train) [1]' not in log
    assert osp.isfile(osp.join(trained, 'epoch_2.pth'))


def test_test_tool_reports_every_split(workspace, trained, tmp_path):
    root, data_root = workspace
    checkpoint = osp.join(trained, 'epoch_1.pth')
    test_dir = str(tmp_path / 'test')
    completed = run_tool(
        'tools/test.py',
        CONFIG,
        checkpoint,
        '--work-dir',
        test_dir,
        *tiny_options(data_root, max_epochs=1),
        cwd=REPO_ROOT,
    )
    results = read_bg_challenge_json(test_dir)
    (plot,) = glob.glob(osp.join(test_dir, '*', 'bg_challenge.png'))
    assert osp.getsize(plot) > 0

    splits = [
        'original',
        'only_fg',
        'only_bg_b',
        'only_bg_t',
        'no_fg',
        'mixed_same',
        'mixed_rand',
        'mixed_next',
    ]
    assert [k for k in results if k.startswith('bg_challenge/')] == [
        *(f'bg_challenge/{s}' for s in splits),
        'bg_challenge/bg_gap',
    ]
    for split in splits:
        assert f'| {split} |' in completed.stdout
    assert 'BG-GAP' in completed.stdout

    # A second path to the same numbers: MMPretrain's inferencer, image by image.
    from mmpretrain import ImageClassificationInferencer

    inferencer = ImageClassificationInferencer(
        model=CONFIG, pretrained=checkpoint, device='cpu'
    )
    image_splits, correct = [], []
    test_root = osp.join(data_root, 'test_set')
    for split in splits:
        for label, class_dir in enumerate(
            sorted(os.listdir(osp.join(test_root, split, 'val')))
        ):
            class_path = osp.join(test_root, split, 'val', class_dir)
            for name in sorted(os.listdir(class_path)):
                prediction = inferencer(osp.join(class_path, name))[0]
                image_splits.append(split)
                correct.append(prediction['pred_label'] == label)
    expected = split_accuracies(image_splits, correct)
    for split in splits:
        assert results[f'bg_challenge/{split}'] == pytest.approx(expected[split])
    assert results['bg_challenge/bg_gap'] == pytest.approx(bg_gap(expected))


def test_get_model_loads_runner_checkpoint(trained):
    import torch
    from mmpretrain.apis import get_model

    from clad_mm.utils.checkpoint_io import load_from_local_safely

    checkpoint = osp.join(trained, 'epoch_1.pth')
    model = get_model(CONFIG, pretrained=checkpoint, device='cpu')
    saved = load_from_local_safely(checkpoint)['state_dict']
    weight_key = 'head.fc.weight'
    assert torch.equal(model.state_dict()[weight_key], saved[weight_key])


def test_amp_without_gpu_is_a_clear_error(run_cli, tmp_path):
    result = run_cli('train.py', CONFIG, '--amp', '--work-dir', tmp_path)
    assert result.status == 2
    assert '--amp needs a CUDA' in result.stderr
    assert 'Traceback' not in result.stderr


def test_missing_checkpoint_is_a_clear_error(run_cli, tmp_path):
    missing = str(tmp_path / 'nope.pth')
    result = run_cli('test.py', CONFIG, missing)
    assert result.status == 2
    assert missing in result.stderr


def test_dist_train_runs_two_gloo_processes(workspace, tmp_path):
    root, data_root = workspace
    work_dir = str(tmp_path / 'dist')
    env = dict(os.environ, PORT='29731', PYTHON=sys.executable)
    completed = subprocess.run(
        [
            'bash',
            'tools/dist_train.sh',
            CONFIG,
            '2',
            '--work-dir',
            work_dir,
            '--no-validate',
            *tiny_options(data_root, max_epochs=1),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_test_tool_tta_and_metrics_out(workspace, trained, tmp_path):
    root, data_root = workspace
    metrics_file = tmp_path / 'metrics.json'
    run_tool(
        'tools/test.py',
        CONFIG,
        osp.join(trained, 'epoch_1.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
        '--tta',
        '--out',
        str(metrics_file),
        '--out-item',
        'metrics',
        *tiny_options(data_root, max_epochs=1),
        'test_dataloader.dataset.splits=[original,mixed_rand]',
        cwd=REPO_ROOT,
    )
    metrics = json.loads(metrics_file.read_text())
    assert set(metrics) == {'bg_challenge/original', 'bg_challenge/mixed_rand'}


def test_test_tool_show_dir_draws_every_image(workspace, trained, tmp_path):
    root, data_root = workspace
    show_dir = tmp_path / 'shown'
    run_tool(
        'tools/test.py',
        CONFIG,
        osp.join(trained, 'epoch_1.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
        '--show-dir',
        str(show_dir),
        *tiny_options(data_root, max_epochs=1),
        'test_dataloader.dataset.splits=[only_fg]',
        cwd=REPO_ROOT,
    )
    num_test_images = 9 * 2  # nine classes, two per class
    assert len(list(show_dir.rglob('*.png'))) == num_test_images


def test_tta_with_show_dir_is_a_clear_error(run_cli, tmp_path):
    checkpoint = tmp_path / 'any.pth'
    checkpoint.write_bytes(b'')
    result = run_cli('test.py', CONFIG, checkpoint, '--tta', '--show-dir', tmp_path)
    assert result.status == 2
    assert 'cannot be combined with --tta' in result.stderr


def test_dist_test_matches_single_process(workspace, trained, tmp_path):
    root, data_root = workspace
    checkpoint = osp.join(trained, 'epoch_1.pth')
    single_dir, dist_dir = str(tmp_path / 'single'), str(tmp_path / 'dist')
    options = tiny_options(data_root, max_epochs=1)
    run_tool(
        'tools/test.py',
        CONFIG,
        checkpoint,
        '--work-dir',
        single_dir,
        *options,
        cwd=REPO_ROOT,
    )
    completed = subprocess.run(
        [
            'bash',
            'tools/dist_test.sh',
            CONFIG,
            checkpoint,
            '2',
            '--work-dir',
            dist_dir,
            *options,
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ, PORT='29732', PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    single, dist = read_bg_challenge_json(single_dir), read_bg_challenge_json(dist_dir)
    metric_keys = [key for key in single if key.startswith('bg_challenge/')]
    assert len(metric_keys) == 9
    for key in metric_keys:
        assert dist[key] == pytest.approx(single[key])


def test_checkpoint_hook_keeps_the_best_mixed_rand_epoch(workspace, tmp_path):
    _, data_root = workspace
    work_dir = str(tmp_path / 'work')
    run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        work_dir,
        *tiny_options(data_root, max_epochs=3),
        'default_hooks.checkpoint.save_best=bg_challenge/mixed_rand',
        'default_hooks.checkpoint.rule=greater',
        cwd=REPO_ROOT,
    )
    (scalars_path,) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars_path) as f:
        logged = [json.loads(line) for line in f]
    mixed_rand = [
        (entry['step'], entry['bg_challenge/mixed_rand'])
        for entry in logged
        if 'bg_challenge/mixed_rand' in entry
    ]
    assert [epoch for epoch, _ in mixed_rand] == [1, 2, 3]
    best_epoch = max(mixed_rand, key=lambda item: item[1])[0]  # first of equals
    best = glob.glob(osp.join(work_dir, 'best_bg_challenge_mixed_rand_epoch_*.pth'))
    assert [osp.basename(path) for path in best] == [
        f'best_bg_challenge_mixed_rand_epoch_{best_epoch}.pth'
    ]
