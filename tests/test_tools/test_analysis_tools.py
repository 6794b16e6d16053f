"""tools/analysis/consistency.py and positional_shift.py on a tiny SynBG.

The model is the SynBG baseline config with random weights: the numbers
mean nothing, but they must agree with each other and with MMPretrain's own
inferencers run image by image.
"""

import glob
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmpretrain.apis import FeatureExtractor, ImageClassificationInferencer, get_model

from clad_mm.data_prep.synthetic.synbg import generate_synbg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_baseline.py')
TEST_PER_CLASS = 2


def load_tool(name):
    path = osp.join(REPO_ROOT, 'tools/analysis', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'analysis_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('analysis')
    data_root = str(root / 'synbg')
    generate_synbg(
        data_root,
        image_size=32,
        train_per_class=2,
        test_per_class=TEST_PER_CLASS,
        seed=2,
        show_progress=False,
    )
    torch.manual_seed(0)
    model = get_model(CONFIG)
    checkpoint = str(root / 'random_init.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return osp.join(data_root, 'test_set'), checkpoint


def read_single_json(work_dir, prefix):
    (path,) = glob.glob(osp.join(work_dir, f'{prefix}_*.json'))
    with open(path) as f:
        return json.load(f)


def test_consistency_tool_numbers_agree(workspace, tmp_path, capsys):
    test_root, checkpoint = workspace
    work_dir = str(tmp_path / 'consistency')
    returned = load_tool('consistency').main(
        [
            CONFIG,
            checkpoint,
            '--data-root',
            test_root,
            '--work-dir',
            work_dir,
            '--batch-size',
            '5',
            '--device',
            'cpu',
        ]
    )
    results = read_single_json(work_dir, 'consistency')
    assert results['num_pairs'] == returned['num_pairs'] == 9 * TEST_PER_CLASS
    assert results['pairs_by_method'] == {'stem': 9 * TEST_PER_CLASS}
    assert results['unmatched_references'] == []
    assert results['unmatched_counterparts'] == []
    printed = capsys.readouterr().out
    assert f'| pairs | {9 * TEST_PER_CLASS} ({9 * TEST_PER_CLASS} by stem) |' in printed

    pairs = results['pairs']
    same = [pair['reference_pred'] == pair['counterpart_pred'] for pair in pairs]
    assert results['decision_consistency'] == pytest.approx(100 * np.mean(same))
    assert results['mean_cosine_similarity'] == pytest.approx(
        np.mean([pair['cosine_similarity'] for pair in pairs])
    )
    assert results['reference_accuracy'] == pytest.approx(
        100 * np.mean([pair['reference_pred'] == pair['label'] for pair in pairs])
    )
    assert f'{results["decision_consistency"]:.2f}' in printed

    # A second path to the predictions and features: MMPretrain's own
    # inferencers, image by image.
    classifier = ImageClassificationInferencer(CONFIG, pretrained=checkpoint)
    extractor = FeatureExtractor(CONFIG, pretrained=checkpoint)
    for pair in pairs:
        assert osp.basename(pair['reference']) == osp.basename(pair['counterpart'])
        for role in ('reference', 'counterpart'):
            prediction = classifier(pair[role])[0]['pred_label']
            assert prediction == pair[f'{role}_pred']
        (reference,) = extractor(pair['reference'], stage='pre_logits')
        (counterpart,) = extractor(pair['counterpart'], stage='pre_logits')
        cosine = torch.nn.functional.cosine_similarity(reference, counterpart, dim=0)
        assert pair['cosine_similarity'] == pytest.approx(float(cosine), abs=1e-5)


def test_consistency_tool_pairs_by_composition(workspace, tmp_path):
    test_root, checkpoint = workspace
    work_dir = str(tmp_path / 'composition')
    load_tool('consistency').main(
        [
            CONFIG,
            checkpoint,
            '--data-root',
            test_root,
            '--work-dir',
            work_dir,
            '--pairing',
            'composition',
            '--device',
            'cpu',
        ]
    )
    results = read_single_json(work_dir, 'consistency')
    assert results['pairs_by_method'] == {'composition': 9 * TEST_PER_CLASS}
    for pair in results['pairs']:
        assert osp.basename(pair['reference']) == osp.basename(pair['counterpart'])


def test_positional_shift_tool_numbers_agree(workspace, tmp_path, capsys):
    test_root, checkpoint = workspace
    work_dir = str(tmp_path / 'shift')
    load_tool('positional_shift').main(
        [
            CONFIG,
            checkpoint,
            '--data-root',
            test_root,
            '--work-dir',
            work_dir,
            '--split',
            'only_fg',
            '--crop-fraction',
            '0.5',
            '--batch-size',
            '12',
            '--device',
            'cpu',
        ]
    )
    results = read_single_json(work_dir, 'positional_shift')
    assert results['num_images'] == len(results['images']) == 9 * TEST_PER_CLASS
    assert all('/only_fg/' in image['path'] for image in results['images'])
    views = ['full', 'top_left', 'top_right', 'bottom_left', 'bottom_right', 'center']
    for view in views:
        hits = [
            image['predictions'][view] == image['label'] for image in results['images']
        ]
        assert results['accuracy'][view] == pytest.approx(100 * np.mean(hits))
        if view != 'full':
            assert results['drop'][view] == pytest.approx(
                results['accuracy']['full'] - results['accuracy'][view]
            )
    assert f'| full | {results["accuracy"]["full"]:.2f} |' in capsys.readouterr().out

    # The full image as tools/test.py's pipeline sees it, and a corner crop
    # cut by hand (16 of 32 pixels) and resized back with OpenCV.
    classifier = ImageClassificationInferencer(CONFIG, pretrained=checkpoint)
    for image in results['images']:
        assert (
            classifier(image['path'])[0]['pred_label'] == image['predictions']['full']
        )
        pixels = cv2.imread(image['path'])
        corner = cv2.resize(pixels[16:, :16], (32, 32), interpolation=cv2.INTER_LINEAR)
        prediction = classifier(corner)[0]['pred_label']
        assert prediction == image['predictions']['bottom_left']


def test_checkpoint_of_another_model_is_a_clear_error(workspace, tmp_path):
    test_root, _ = workspace
    five_classes = str(tmp_path / 'five_classes.pth')
    torch.save(
        {'state_dict': get_model(CONFIG, head=dict(num_classes=5)).state_dict()},
        five_classes,
    )
    with pytest.raises(ValueError, match='five_classes.pth does not fit') as error:
        load_tool('positional_shift').main(
            [CONFIG, five_classes, '--data-root', test_root, '--device', 'cpu']
        )
    assert 'head.fc.weight' in str(error.value)


def test_missing_checkpoint_is_a_usage_error(tmp_path, capsys):
    missing = str(tmp_path / 'nope.pth')
    for tool in ('consistency', 'positional_shift'):
        with pytest.raises(SystemExit) as exit_info:
            load_tool(tool).main([CONFIG, missing])
        assert exit_info.value.code == 2
        assert missing in capsys.readouterr().err
