"""tools/analysis/bg_challenge.py on a tiny SynBG with untrained checkpoints."""

import glob
import importlib.util
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from tiny_data import make_tiny_synbg

from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
TOOL = osp.join(REPO_ROOT, 'tools/analysis/bg_challenge.py')
MAX_FOREGROUNDS, MAX_BACKGROUNDS = 6, 5


def load_tool():
    spec = importlib.util.spec_from_file_location('bg_challenge_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_random_checkpoint(path, centre_on_images=(), config=CONFIG, **model_options):
    """Saves an untrained model of ``config``.

    With ``centre_on_images``, the head is re-drawn to project the backbone
    features minus their mean over these images, so that predictions vary
    from image to image (an untrained ResNet gives every image one class).
    """
    from mmpretrain.apis import get_model

    torch.manual_seed(0)
    model = get_model(config, **model_options)
    if centre_on_images:
        inputs = [
            torch.from_numpy(cv2.imread(image_path)).permute(2, 0, 1)
            for image_path in centre_on_images
        ]
        with torch.no_grad():
            batch = model.data_preprocessor(dict(inputs=inputs), False)
            (features,) = model.extract_feat(batch['inputs'])
            fc = model.head.fc
            fc.weight.copy_(
                torch.randn_like(fc.weight) / features.std(0).clamp_min(1e-6)
            )
            fc.bias.copy_(-fc.weight @ features.mean(0))
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('bg_challenge_tool')
    make_tiny_synbg(str(root / 'synbg'), seed=2)
    test_root = str(root / 'synbg' / 'test_set')
    checkpoint = save_random_checkpoint(
        root / 'random.pth',
        centre_on_images=sorted(
            glob.glob(osp.join(test_root, '*', 'val', '*', '*.JPEG'))
        ),
    )
    return root, test_root, checkpoint


def tool_args(test_root, checkpoint, work_dir):
    return [
        CONFIG,
        checkpoint,
        '--data-root',
        test_root,
        '--work-dir',
        str(work_dir),
        '--batch-size',
        '2',
        '--max-foregrounds',
        str(MAX_FOREGROUNDS),
        '--max-backgrounds',
        str(MAX_BACKGROUNDS),
        '--device',
        'cpu',
    ]


def test_tool_writes_consistent_results(workspace, tmp_path, capsys):
    root, test_root, checkpoint = workspace
    work_dir = tmp_path / 'out'
    report = load_tool().main(tool_args(test_root, checkpoint, work_dir))
    stdout = capsys.readouterr().out
    assert '| foregrounds | vulnerable | challenge accuracy (%)' in stdout

    with open(work_dir / 'bg_challenge_adversarial.json') as file:
        results = json.load(file)
    assert results == json.loads(json.dumps(report))
    records = results['foregrounds']
    assert len(records) == results['num_foregrounds'] == MAX_FOREGROUNDS
    assert len(results['backgrounds']) == MAX_BACKGROUNDS
    vulnerable = sum(record['vulnerable'] for record in records)
    assert results['num_vulnerable'] == vulnerable
    assert 0 <= results['challenge_accuracy'] <= 100
    assert results['challenge_accuracy'] == pytest.approx(
        100 * (MAX_FOREGROUNDS - vulnerable) / MAX_FOREGROUNDS
    )
    assert results['settings']['checkpoint'] == checkpoint
    assert results['settings']['max_backgrounds'] == MAX_BACKGROUNDS

    # The same result by a second path: every composite of the subset, pasted
    # here with numpy, saved losslessly and classified by MMPretrain's
    # inferencer; the first misclassified one ends each foreground.
    from mmpretrain import ImageClassificationInferencer

    inferencer = ImageClassificationInferencer(
        model=CONFIG, pretrained=checkpoint, device='cpu'
    )
    backgrounds = [
        cv2.imread(osp.join(test_root, 'only_bg_t', 'val', name))
        for name in results['backgrounds']
    ]
    predicted_labels = set()
    for record in records:
        folder, file_name = record['foreground'].split('/')
        image = cv2.imread(osp.join(test_root, 'original', 'val', folder, file_name))
        stem = osp.splitext(file_name)[0]
        mask = np.load(osp.join(test_root, 'fg_mask', 'val', folder, stem + '.npy'))
        paths = []
        for index, background in enumerate(backgrounds):
            path = str(tmp_path / f'{stem}_{index}.png')
            cv2.imwrite(path, np.where(mask[..., None] != 0, image, background))
            paths.append(path)
        predictions = [p['pred_label'] for p in inferencer(paths)]
        predicted_labels.update(predictions)
        fooled = [i for i, label in enumerate(predictions) if label != record['label']]
        assert record['vulnerable'] == bool(fooled)
        if fooled:
            assert record['first_fooling_background'] == fooled[0]
            assert record['backgrounds_tried'] == fooled[0] + 1
            assert record['fooling_prediction'] == predictions[fooled[0]]
        else:
            assert record['backgrounds_tried'] == MAX_BACKGROUNDS
    # The check is only as good as the variety of the predictions.
    assert len(predicted_labels) >= 3


def test_tool_resumes_and_keeps_results(workspace, tmp_path, capsys):
    root, test_root, checkpoint = workspace
    work_dir = tmp_path / 'out'
    tool = load_tool()
    first = tool.main(tool_args(test_root, checkpoint, work_dir))
    capsys.readouterr()
    again = tool.main(tool_args(test_root, checkpoint, work_dir))
    assert f'{MAX_FOREGROUNDS} of {MAX_FOREGROUNDS} foregrounds already' in (
        capsys.readouterr().out
    )
    assert again == first

    with pytest.raises(ValueError, match='max_backgrounds: 5 in the file, 4 now'):
        tool.main(
            [*tool_args(test_root, checkpoint, work_dir), '--max-backgrounds', '4']
        )

    (work_dir / 'bg_challenge_adversarial_state.jsonl').unlink()
    result = work_dir / 'bg_challenge_adversarial.json'
    written = result.read_text()
    with pytest.raises(FileExistsError, match='bg_challenge_adversarial.json'):
        tool.main(tool_args(test_root, checkpoint, work_dir))
    assert result.read_text() == written


def test_replaced_checkpoint_is_refused_and_too_large_max_warns(
    workspace, tmp_path, capsys, logged_warnings
):
    root, test_root, checkpoint = workspace
    copied = str(tmp_path / 'model.pth')
    shutil.copy(checkpoint, copied)
    work_dir = tmp_path / 'out'
    args = tool_args(test_root, copied, work_dir)
    args[args.index('--max-backgrounds') + 1] = '1000'
    tool = load_tool()
    report = tool.main(args)
    num_backgrounds = len(report['backgrounds'])
    assert num_backgrounds == len(
        glob.glob(osp.join(test_root, 'only_bg_t', 'val', '*', '*.JPEG'))
    )
    assert logged_warnings == [
        f'--max-backgrounds 1000 is more than the {num_backgrounds} backgrounds '
        f'of {test_root}: all {num_backgrounds} are used'
    ]

    # Another model under the same path: matched by content, so refused.
    checkpoint_dict = torch.load(copied)
    checkpoint_dict['state_dict']['head.fc.bias'] += 1
    torch.save(checkpoint_dict, copied)
    with pytest.raises(UserError) as error:
        tool.main(args)
    assert f'checkpoint {copied} with sha256' in str(error.value)
    assert 'it was replaced' in str(error.value)


def test_checkpoint_with_other_classes_is_a_clear_error(workspace, tmp_path):
    root, test_root, _ = workspace
    checkpoint = save_random_checkpoint(
        tmp_path / 'five_classes.pth', head=dict(num_classes=5)
    )
    with pytest.raises(ValueError) as error:
        load_tool().main(tool_args(test_root, checkpoint, tmp_path / 'out'))
    assert str(error.value).startswith(
        f'Checkpoint {checkpoint} does not fit the model of config {CONFIG}: it '
        'has 5 classes (head.fc.weight is (5, 512)) but the config has 9'
    )


def test_missing_checkpoint_is_a_usage_error(workspace, tmp_path, capsys):
    root, test_root, _ = workspace
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit) as error:
        load_tool().main(tool_args(test_root, missing, tmp_path / 'out'))
    assert error.value.code == 2
    assert missing in capsys.readouterr().err


IN9_FOLDERS = (
    '00_dog',
    '01_bird',
    '02_wheeled vehicle',
    '03_reptile',
    '04_carnivore',
    '05_insect',
    '06_musical instrument',
    '07_primate',
    '08_fish',
)


def write_in1k_config(path):
    """The SynBG baseline with a 1000-class head, scored on IN-9 classes."""
    path.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        'model = dict(head=dict(num_classes=1000))\n'
        'data_preprocessor = dict(num_classes=1000)\n'
        "test_evaluator = dict(type='BGChallengeMetric', "
        "label_mapping='imagenet1k_to_in9')\n"
    )
    return str(path)


def test_imagenet_model_is_scored_through_the_label_mapping(workspace, tmp_path):
    from mmpretrain import ImageClassificationInferencer

    from clad_mm.evaluation.imagenet_to_in9 import in9_predictions

    root, synbg_test_root, _ = workspace
    # SynBG's files under the IN-9 class folder names.
    test_root = tmp_path / 'in9'
    for split in ('original', 'fg_mask', 'only_bg_t'):
        source = osp.join(synbg_test_root, split, 'val')
        for synbg_folder, in9_folder in zip(sorted(os.listdir(source)), IN9_FOLDERS):
            shutil.copytree(
                osp.join(source, synbg_folder),
                test_root / split / 'val' / in9_folder,
            )
    config = write_in1k_config(tmp_path / 'in1k.py')
    checkpoint = save_random_checkpoint(
        tmp_path / 'in1k.pth',
        centre_on_images=sorted(
            glob.glob(str(test_root / '*' / 'val' / '*' / '*.JPEG'))
        ),
        config=config,
    )
    results = load_tool().main(
        [config, *tool_args(str(test_root), checkpoint, tmp_path / 'out')[1:]]
    )

    inferencer = ImageClassificationInferencer(
        model=config, pretrained=checkpoint, device='cpu'
    )
    for record in results['foregrounds']:
        folder, file_name = record['foreground'].split('/')
        image = cv2.imread(str(test_root / 'original' / 'val' / folder / file_name))
        stem = osp.splitext(file_name)[0]
        mask = np.load(test_root / 'fg_mask' / 'val' / folder / (stem + '.npy'))
        paths = []
        for index in range(record['backgrounds_tried']):
            background = cv2.imread(
                str(test_root / 'only_bg_t' / 'val' / results['backgrounds'][index])
            )
            path = str(tmp_path / f'{stem}_{index}.png')
            cv2.imwrite(path, np.where(mask[..., None] != 0, image, background))
            paths.append(path)
        scores = torch.tensor(np.stack([p['pred_scores'] for p in inferencer(paths)]))
        assert scores.shape[1] == 1000
        in9_labels = in9_predictions(scores).tolist()
        if record['vulnerable']:
            assert all(label == record['label'] for label in in9_labels[:-1])
            assert in9_labels[-1] == record['fooling_prediction'] != record['label']
        else:
            assert in9_labels == [record['label']] * MAX_BACKGROUNDS


def test_label_mapping_on_other_classes_is_a_clear_error(workspace, tmp_path):
    root, test_root, _ = workspace
    config = write_in1k_config(tmp_path / 'in1k.py')
    checkpoint = save_random_checkpoint(tmp_path / 'in1k.pth', config=config)
    with pytest.raises(ValueError) as error:
        load_tool().main(
            [config, *tool_args(test_root, checkpoint, tmp_path / 'o')[1:]]
        )
    message = str(error.value)
    assert "label_mapping='imagenet1k_to_in9'" in message
    assert 'circle' in message and 'dog' in message
