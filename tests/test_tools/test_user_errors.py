"""User mistakes at tools/train.py and the dist scripts: one line, no traceback.

The mistakes caught before a Runner is built run in-process (fast); those
that need the Runner (a bad image, classes that do not fit the head, an
unknown type) run as subprocesses on one tiny SynBG shared by the module.
"""

import glob
import os
import os.path as osp
import shutil
import stat
import subprocess

import pytest
from tiny_data import make_tiny_synbg

from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
TRAIN_FOLDERS = ('original', 'fg_mask', 'only_bg_t')


@pytest.fixture(scope='module')
def synbg(tmp_path_factory):
    root = tmp_path_factory.mktemp('user_errors')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root)
    return data_root


def copy_train_set(synbg, destination):
    """A copy of the SynBG training folders (the test set is not needed)."""
    for folder in TRAIN_FOLDERS:
        shutil.copytree(osp.join(synbg, folder), osp.join(destination, folder))
    return str(destination)


def tiny_run(data_root, work_dir, *options, num_workers=0):
    return [
        CONFIG,
        '--work-dir',
        str(work_dir),
        '--no-validate',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=4',
        f'train_dataloader.num_workers={num_workers}',
        'train_cfg.max_epochs=1',
        *options,
    ]


# In-process: refused before a Runner is built.


def test_missing_config_is_named(run_cli, tmp_path):
    missing = str(tmp_path / 'nope.py')
    run_cli('train.py', missing).assert_user_error(missing, 'no such file')


def test_syntax_error_in_config_names_file_and_line(run_cli, tmp_path):
    config = tmp_path / 'broken.py'
    config.write_text("model = dict(type='ImageClassifier')\nx = = 2\n")
    result = run_cli('train.py', str(config))
    result.assert_user_error(str(config), 'SyntaxError', 'line 2')


def test_name_error_in_config_names_file_and_line(run_cli, tmp_path):
    config = tmp_path / 'undefined.py'
    config.write_text('a = 1\nmodel = dict(type=undefined_name)\n')
    result = run_cli('train.py', str(config))
    result.assert_user_error(str(config), 'NameError', 'line 2', 'undefined_name')


def test_typo_of_a_runner_key_is_refused(run_cli, tmp_path):
    config = tmp_path / 'typo.py'
    config.write_text(f'_base_ = [{CONFIG!r}]\ntrian_cfg = dict(max_epochs=1)\n')
    result = run_cli('train.py', str(config))
    result.assert_user_error(str(config), "'trian_cfg'", "did you mean 'train_cfg'")


def test_cfg_option_without_equals_is_a_usage_error(run_cli):
    result = run_cli('train.py', CONFIG, '--cfg-options', 'foo')
    result.assert_user_error("'foo'", 'KEY=VALUE', status=2)


def test_cfg_option_of_an_unknown_top_level_key_is_refused(run_cli):
    result = run_cli('train.py', CONFIG, '--cfg-options', 'optim_wraper.lr=1')
    result.assert_user_error(
        'optim_wraper.lr', "no top-level key 'optim_wraper'", "'optim_wrapper'"
    )


def test_uncreatable_work_dir_is_named(run_cli, tmp_path):
    a_file = tmp_path / 'a_file'
    a_file.write_text('')
    work_dir = str(a_file / 'work')
    result = run_cli('train.py', CONFIG, '--work-dir', work_dir)
    result.assert_user_error(work_dir, 'cannot be created or written')


def test_read_only_work_dir_is_named(run_cli, tmp_path):
    if os.geteuid() != 0:
        work_dir = tmp_path / 'read_only'
        work_dir.mkdir()
        work_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:
        # root writes through permission bits; sysfs creates no regular files,
        # not even for root.
        work_dir = '/sys'
    try:
        result = run_cli('train.py', CONFIG, '--work-dir', str(work_dir))
    finally:
        if work_dir != '/sys':
            work_dir.chmod(stat.S_IRWXU)
    result.assert_user_error(str(work_dir), 'cannot be created or written')


# The dist scripts check their arguments before starting torchrun.


@pytest.mark.parametrize(
    'script, args, expected',
    [
        ('dist_train.sh', [], 'expected CONFIG and NUM_PROCESSES, got 0'),
        ('dist_train.sh', [CONFIG, '0'], "positive integer, got '0'"),
        ('dist_test.sh', [CONFIG, 'x.pth', 'two'], "positive integer, got 'two'"),
    ],
)
def test_dist_scripts_print_usage(script, args, expected):
    completed = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', script), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith(f'usage: {osp.join(REPO_ROOT, "tools", script)}')
    assert expected in completed.stderr.strip().splitlines()[-1]


# Subprocesses: the Runner is built.


@pytest.mark.parametrize('num_workers', [0, 2])
def test_zero_byte_training_image_is_named(synbg, tmp_path, run_cli, num_workers):
    data_root = copy_train_set(synbg, tmp_path / 'data')
    image = osp.join(data_root, 'original', 'train', '00_circle')
    image = osp.join(image, sorted(os.listdir(image))[0])
    open(image, 'wb').close()
    result = run_cli(
        'train.py',
        *tiny_run(data_root, tmp_path / 'work', num_workers=num_workers),
        subprocess_run=True,
    )
    result.assert_user_error(image, 'cannot be decoded as an image')
    assert 'DataLoader worker' not in result.error_line


def test_more_class_folders_than_the_head_is_named(synbg, tmp_path, run_cli):
    data_root = copy_train_set(synbg, tmp_path / 'data')
    for folder in TRAIN_FOLDERS:
        parent = osp.join(data_root, folder, 'train')
        shutil.copytree(osp.join(parent, '00_circle'), osp.join(parent, '09_extra'))
    result = run_cli(
        'train.py', *tiny_run(data_root, tmp_path / 'work'), subprocess_run=True
    )
    result.assert_user_error(
        data_root, '10 classes', 'model.head.num_classes=9', 'num_classes=10'
    )


def test_unknown_type_is_named(synbg, tmp_path, run_cli):
    result = run_cli(
        'train.py',
        *tiny_run(synbg, tmp_path / 'work', 'model.backbone.type=ResNet181'),
        subprocess_run=True,
    )
    result.assert_user_error(CONFIG, "type='ResNet181'", 'registry')


def test_test_tool_checks_its_config_the_same_way(run_cli, tmp_path):
    checkpoint = tmp_path / 'any.pth'
    checkpoint.write_bytes(b'')
    result = run_cli('test.py', CONFIG, str(checkpoint), '--cfg-options', 'foo')
    result.assert_user_error("'foo'", 'KEY=VALUE', status=2)
    missing = str(tmp_path / 'nope.py')
    run_cli('test.py', missing, str(checkpoint)).assert_user_error(missing)


def test_registry_errors_name_the_type_or_argument(monkeypatch):
    from mmpretrain.registry import MODELS

    monkeypatch.syspath_prepend(osp.join(REPO_ROOT, 'tools'))
    from tool_utils import registry_errors_named

    with pytest.raises(UserError) as raised, registry_errors_named('c.py'):
        MODELS.build(dict(type='LinearClsHead', num_classes=2, in_channel=4))
    assert str(raised.value) == (
        "config c.py: LinearClsHead needs the argument(s) 'in_channels' in its dict"
    )
    with pytest.raises(UserError) as raised, registry_errors_named('c.py'):
        MODELS.build(dict(type='LinearClsHead', num_classes=2, in_channels=4, k=1))
    assert str(raised.value) == (
        "config c.py: ClsHead takes no argument 'k' (a misspelt key of its dict?)"
    )
    with pytest.raises(UserError, match="type='NoSuchHead' is not in the"):
        with registry_errors_named('c.py'):
            MODELS.build(dict(type='NoSuchHead'))

    # The same exceptions raised elsewhere are defects and pass unchanged.
    def defect():
        raise TypeError("Foo.__init__() got an unexpected keyword argument 'x'")

    with pytest.raises(TypeError), registry_errors_named('c.py'):
        defect()
    with pytest.raises(KeyError), registry_errors_named('c.py'):
        {}['missing']


def test_every_shipped_config_passes_the_key_check(monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO_ROOT, 'tools'))
    from tool_utils import check_config_keys, load_config

    configs = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))
    assert len(configs) >= 10
    for config in configs:
        check_config_keys(load_config(config), config)
