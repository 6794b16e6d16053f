"""tools/data/prepare_in9.py on a tiny fake ImageNet, then one CLAD step."""

import contextlib
import importlib.util
import io
import json
import os
import os.path as osp

import pytest

import clad_mm  # noqa: F401  (registers components, applies compat fixes)
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO_ROOT, 'tools/data/prepare_in9.py')
CLAD_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake_imagenet = _load(
    'fake_imagenet',
    osp.join(REPO_ROOT, 'tests/test_data_prep/test_in9/fake_imagenet.py'),
)
prepare_in9_tool = _load('prepare_in9_tool', TOOL)


def run_tool(capsys, *args):
    """Runs the tool's main in this process (a subprocess spends ~8 s on
    imports); returns its stdout."""
    capsys.readouterr()
    prepare_in9_tool.main(list(args))
    return capsys.readouterr().out


@pytest.fixture(scope='module')
def balanced(tmp_path_factory):
    root = tmp_path_factory.mktemp('prepare_in9')
    fake = fake_imagenet.make_fake_imagenet(str(root / 'imagenet'))
    out_root = str(root / 'in9')
    args = [
        fake['train_root'],
        fake['bbox_root'],
        out_root,
        '--synsets',
        fake['synsets_file'],
        '--balanced',
        '--per-class',
        '1',
        '--val-per-class',
        '2',
        '--workers',
        '2',
    ]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        prepare_in9_tool.main(args)
    return fake, out_root, args, stdout.getvalue()


def _count(folder):
    return sum(len(files) for _, _, files in os.walk(folder))


def test_balanced_run_prints_table_and_report(balanced):
    fake, out_root, _, stdout = balanced
    assert '| kept | 36 |' in stdout
    assert '| rejected: box_too_large | 1 |' in stdout
    assert '| 08_fish | 4 | 1 | 2 |' in stdout
    assert 'FAILED' in stdout and 'not valid XML' in stdout
    report = json.load(open(osp.join(out_root, 'prepare_in9_report.json')))
    assert report['workers'] == 2
    for counts in report['classes'].values():
        assert (counts['train'], counts['val']) == (1, 2)
    for view in ('original', 'fg_mask', 'only_bg_t', 'only_fg', 'mixed_rand'):
        for folder in os.listdir(osp.join(out_root, view, 'train')):
            assert _count(osp.join(out_root, view, 'train', folder)) == 1
    assert _count(osp.join(out_root, 'original', 'val')) == 18


def test_rerun_resumes_without_work(balanced, capsys):
    _, out_root, args, _ = balanced
    before = _count(out_root)
    stdout = run_tool(capsys, *args)
    assert '0 images written, 27 already complete, 2 scanned' in stdout
    assert _count(out_root) == before


def test_clear_errors(balanced, tmp_path, capsys):
    fake = balanced[0]
    with pytest.raises(UserError, match='not 1000.*--synsets'):
        run_tool(capsys, fake['train_root'], fake['bbox_root'], str(tmp_path / 'o'))


def test_clad_config_trains_one_iteration_on_the_output(balanced, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    _, out_root, _, _ = balanced
    cfg = Config.fromfile(CLAD_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_scope = 'mmpretrain'
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = out_root
    swap, two_views = dataset.pipeline[2], dataset.pipeline[3]
    assert swap.type == 'BackgroundSwap' and two_views.type == 'TwoViewPipeline'
    swap.background_root = osp.join(out_root, 'only_bg_t', 'train')
    two_views.anchor_pipeline = [
        dict(type='Resize', scale=(48, 48)),
        *two_views.anchor_pipeline,
    ]
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg = dict(by_epoch=False, max_iters=1)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [dict(type='NegativeDictionaryHook', enqueue='before_loss')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
