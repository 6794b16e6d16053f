"""tools/analysis/saliency.py on random SynBG baselines and tiny images."""

import importlib.util
import json
import os.path as osp
import shutil

import pytest
import torch
from PIL import Image
from tiny_data import make_tiny_synbg

from clad_mm.data_prep.synthetic.synbg import CLASSES
from clad_mm.datasets.folder_layout import class_metainfo
from clad_mm.utils.errors import OutputExistsError, UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'tools/analysis/saliency.py')
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')


def load_script():
    spec = importlib.util.spec_from_file_location('saliency_tool', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_script()


def save_random_checkpoint(config, path, seed):
    from mmpretrain.apis import get_model

    torch.manual_seed(seed)
    model = get_model(config)
    classes = class_metainfo(CLASSES, None)['classes']
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {'dataset_meta': {'classes': classes}},
        },
        path,
    )


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('saliency')
    data_root = root / 'synbg'
    make_tiny_synbg(str(data_root), seed=2)
    split = data_root / 'test_set' / 'mixed_rand' / 'val'
    images = [
        str(next((split / folder).iterdir()))
        for folder in ('00_circle', '03_star', '08_diamond')
    ]
    checkpoints = []
    for seed in (0, 1):
        checkpoints.append(str(root / f'random_{seed}.pth'))
        save_random_checkpoint(CONFIG, checkpoints[-1], seed)
    return root, images, checkpoints


def run(tool, *argv):
    return tool.main(['--n-samples', '2', '--batch-size', '2', *argv])


def test_grid_json_and_predictions(tool, workspace, tmp_path, capsys):
    root, images, checkpoints = workspace
    image_list = tmp_path / 'images.txt'
    image_list.write_text(f'# two of three images\n{images[1]}\n\n{images[2]}\n')
    out = tmp_path / 'grid.png'

    run(
        tool,
        '--model',
        'first',
        CONFIG,
        checkpoints[0],
        '--model',
        'second',
        CONFIG,
        checkpoints[1],
        '--images',
        images[0],
        '--image-list',
        str(image_list),
        '--cell-size',
        '64',
        '--out',
        str(out),
    )

    with Image.open(out) as grid:
        assert grid.format == 'PNG'
        assert grid.size == (64 * 3, 64 * 3)  # input + 2 models, 3 images
    report = json.loads((tmp_path / 'grid.json').read_text())
    assert [image['path'] for image in report['images']] == images
    assert [image['true_label'] for image in report['images']] == [0, 3, 8]
    assert [image['true_class'] for image in report['images']] == [
        'circle',
        'star',
        'diamond',
    ]
    assert [model['name'] for model in report['models']] == ['first', 'second']
    assert report['grid_size_px'] == [192, 192]

    # Second path to the predictions: MMPretrain's own inferencer.
    from mmpretrain import ImageClassificationInferencer

    for checkpoint, name in zip(checkpoints, ['first', 'second']):
        inferencer = ImageClassificationInferencer(
            model=CONFIG, pretrained=checkpoint, device='cpu'
        )
        predictions = report['predictions'][name]
        assert [p['image'] for p in predictions] == images
        for image, prediction in zip(images, predictions):
            expected = inferencer(image)[0]
            assert prediction['pred_label'] == expected['pred_label']
            assert prediction['pred_score'] == pytest.approx(
                expected['pred_score'], abs=1e-5
            )
            assert prediction['pred_class'] == CLASSES[expected['pred_label']][3:]
        assert [p['target_label'] for p in predictions] == [0, 3, 8]

    printed = capsys.readouterr().out
    assert '| image | true class | first | second |' in printed
    assert f'Wrote {out} (192 x 192 px)' in printed

    with pytest.raises(OutputExistsError, match=f'{out}.*pass --overwrite'):
        run(
            tool,
            '--model',
            'first',
            CONFIG,
            checkpoints[0],
            '--images',
            images[0],
            '--out',
            str(out),
        )


def test_image_outside_class_folder_needs_pred_target(
    tool, workspace, tmp_path, capsys
):
    root, images, checkpoints = workspace
    loose = str(tmp_path / 'loose.jpg')
    shutil.copy(images[0], loose)
    model = ['--model', 'only', CONFIG, checkpoints[0]]

    with pytest.raises(UserError) as raised:
        run(tool, *model, '--images', loose, '--out', str(tmp_path / 'a.png'))
    assert loose in str(raised.value)
    assert 'NN_<class>' in str(raised.value)

    run(
        tool,
        *model,
        '--images',
        loose,
        '--target',
        'pred',
        '--out',
        str(tmp_path / 'b.png'),
    )
    report = json.loads((tmp_path / 'b.json').read_text())
    (prediction,) = report['predictions']['only']
    assert prediction['target_label'] == prediction['pred_label']
    assert report['images'][0]['true_label'] is None


def test_checkpoint_with_other_class_count_is_named(tool, workspace, tmp_path):
    root, images, checkpoints = workspace
    five_class_config = tmp_path / 'five_classes.py'
    five_class_config.write_text(
        f'_base_ = [{CONFIG!r}]\nmodel = dict(head=dict(num_classes=5))\n'
    )
    five_class_checkpoint = str(tmp_path / 'five.pth')
    save_random_checkpoint(str(five_class_config), five_class_checkpoint, seed=0)

    with pytest.raises(ValueError) as raised:
        run(
            tool,
            '--model',
            'five',
            CONFIG,
            five_class_checkpoint,
            '--images',
            images[0],
            '--out',
            str(tmp_path / 'x.png'),
        )
    assert (
        f'Checkpoint {five_class_checkpoint} does not fit the model of config '
        f'{CONFIG}: it has 5 classes (head.fc.weight is (5, 512)) but the config '
        'has 9 (model.head.num_classes; head.fc.weight is (9, 512))'
    ) in str(raised.value)


@pytest.mark.parametrize(
    'model_args, images_arg, expected',
    [
        (['m', CONFIG, 'missing.pth'], None, "checkpoint 'missing.pth' of --model m"),
        (['m', 'CKPT', CONFIG], None, "got config '{checkpoint}'"),
        (['m', CONFIG], None, 'argument --model: expected 3 arguments'),
        (['m', CONFIG, 'CKPT'], 'nowhere/missing.png', "image 'nowhere/missing.png'"),
    ],
)
def test_bad_input_names_the_value(
    tool, workspace, tmp_path, capsys, model_args, images_arg, expected
):
    root, images, checkpoints = workspace
    model_args = [checkpoints[0] if arg == 'CKPT' else arg for arg in model_args]
    with pytest.raises(SystemExit) as raised:
        run(
            tool,
            '--model',
            *model_args,
            '--images',
            images_arg or images[0],
            '--out',
            str(tmp_path / 'x.png'),
        )
    assert raised.value.code == 2
    assert expected.format(checkpoint=checkpoints[0]) in capsys.readouterr().err


def test_label_of_another_class_naming_is_refused(tool, workspace, tmp_path):
    root, images, checkpoints = workspace
    state_dict = torch.load(checkpoints[0])['state_dict']
    renamed = str(tmp_path / 'renamed.pth')
    classes = tuple(f'class_{index}' for index in range(9))
    torch.save(
        {'state_dict': state_dict, 'meta': {'dataset_meta': {'classes': classes}}},
        renamed,
    )

    with pytest.raises(UserError) as raised:
        run(
            tool,
            *('--model', 'renamed', CONFIG, renamed),
            *('--images', images[1], '--out', str(tmp_path / 'x.png')),
        )
    message = str(raised.value)
    assert images[1] in message
    assert "'star'" in message and "'class_3'" in message
