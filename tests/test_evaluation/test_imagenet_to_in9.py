"""ImageNet-1k -> IN-9 mapping, against the published text and by hand."""

import json
import os
import os.path as osp
import re
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.apis import get_model
from mmpretrain.registry import MODELS
from PIL import Image
from tiny_data import make_tiny_synbg

from clad_mm.datasets.categories import IMAGENET_TO_IN9_RANGES, IN9_CLASSES, UNMAPPED
from clad_mm.evaluation.imagenet_to_in9 import (
    imagenet_to_in9,
    imagenet_to_in9_table,
    in9_predictions,
)
from clad_mm.evaluation.metrics.bg_challenge_metric import BGChallengeMetric
from clad_mm.utils.errors import UserError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet50_in1k_bgchallenge.py')

# The mapping of the official evaluation code of the Background Challenge
# (Xiao et al., ICLR 2021), as its text lists it.
PUBLISHED_MAPPING = (
    'dog 151–170 and 173–268; bird 7–24, 87–100, 127–146; wheeled vehicle 407, '
    '408, 428, 436, 444, 468, 511, 547, 555, 561, 565, 569, 573, 586, 603, 609, '
    '612, 627, 656, 661, 665, 670, 671, 675, 690, 705, 717, 734, 751, 757, 791, '
    '802, 803, 817, 820, 829, 847, 864, 866, 867, 870, 880; reptile 33–68; '
    'carnivore 269–280, 286–299, 356–362, 387, 388; insect 300–326; musical '
    'instrument 401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, '
    '593, 594, 641, 642, 683, 684, 687, 699, 776, 822, 875, 881, 889; primate '
    '365–384; fish 0–6, 389–397'
)

# Counted from the range endpoints of the text above.
EXPECTED_COUNTS = {
    'dog': (170 - 151 + 1) + (268 - 173 + 1),  # 20 + 96 = 116
    'bird': (24 - 7 + 1) + (100 - 87 + 1) + (146 - 127 + 1),  # 18 + 14 + 20 = 52
    'wheeled vehicle': 42,  # 407, 408, ..., 880: 4 rows of 10, then 870, 880
    'reptile': 68 - 33 + 1,  # 36
    'carnivore': (280 - 269 + 1) + (299 - 286 + 1) + (362 - 356 + 1) + 2,  # 35
    'insect': 326 - 300 + 1,  # 27
    'musical instrument': 26,  # 401, 402, ..., 889: 2 rows of 10, then 6
    'primate': 384 - 365 + 1,  # 20
    'fish': (6 - 0 + 1) + (397 - 389 + 1),  # 7 + 9 = 16
}


def parse_published_mapping(text):
    """A second table, read from the prose: ``{imagenet_index: in9_label}``."""
    table = {}
    for part in text.split(';'):
        name = re.match(r'\s*([a-z ]+?)\s+\d', part).group(1)
        label = IN9_CLASSES.index(name)
        for first, last in re.findall(r'(\d+)(?:–(\d+))?', part):
            for index in range(int(first), int(last or first) + 1):
                assert index not in table, f'{index} is listed twice'
                table[index] = label
    return table


def test_hand_counts_add_up_to_the_published_total():
    assert sum(EXPECTED_COUNTS.values()) == 370


def test_370_classes_mapped_630_unmapped():
    table = imagenet_to_in9_table()
    assert table.shape == (1000,)
    assert int((table != UNMAPPED).sum()) == 370
    assert int((table == UNMAPPED).sum()) == 630


def test_per_class_counts_match_the_range_endpoints():
    table = imagenet_to_in9_table()
    for label, name in enumerate(IN9_CLASSES):
        assert int((table == label).sum()) == EXPECTED_COUNTS[name], name


def test_no_imagenet_class_is_listed_twice():
    listed = []
    for entries in IMAGENET_TO_IN9_RANGES.values():
        for entry in entries:
            first, last = (entry, entry) if isinstance(entry, int) else entry
            assert first <= last
            listed += range(first, last + 1)
    assert len(listed) == len(set(listed)) == 370


def test_table_equals_the_published_text():
    published = parse_published_mapping(PUBLISHED_MAPPING)
    expected = [published.get(index, UNMAPPED) for index in range(1000)]
    assert imagenet_to_in9_table().tolist() == expected


@pytest.mark.parametrize(
    'imagenet_index, in9_name',
    [
        (0, 'fish'),
        (6, 'fish'),
        (7, 'bird'),
        (151, 'dog'),
        (268, 'dog'),
        (269, 'carnivore'),
        (397, 'fish'),
        (407, 'wheeled vehicle'),
        (889, 'musical instrument'),
    ],
)
def test_spot_checks(imagenet_index, in9_name):
    assert int(imagenet_to_in9(torch.tensor(imagenet_index))) == IN9_CLASSES.index(
        in9_name
    )


@pytest.mark.parametrize('imagenet_index', [25, 171, 172, 398, 409, 999])
def test_spot_checks_unmapped(imagenet_index):
    assert int(imagenet_to_in9(torch.tensor(imagenet_index))) == UNMAPPED


def test_out_of_range_labels_are_refused():
    with pytest.raises(ValueError, match=r'\[0, 1000\), got values from 3 to 1000'):
        imagenet_to_in9(torch.tensor([3, 1000]))


def test_argmax_over_all_1000_classes_comes_first():
    scores = torch.zeros(3, 1000)
    scores[0, 999], scores[0, 151] = 5.0, 4.0  # top class unmapped, dog second
    scores[1, 407] = 1.0  # wheeled vehicle
    scores[2, 0], scores[2, 500] = 2.0, 1.0  # fish; 500 is unmapped
    assert in9_predictions(scores).tolist() == [UNMAPPED, 2, 8]
    assert int(in9_predictions(scores[1])) == 2


def test_scores_of_another_size_are_refused():
    with pytest.raises(ValueError, match=r'got \(4, 9\); is the model a 1000-class'):
        in9_predictions(torch.zeros(4, 9))


def scored_sample(split, target, scores):
    pred_score = torch.zeros(1000)
    for index, value in scores.items():
        pred_score[index] = value
    return dict(split=split, pred_score=pred_score, gt_label=torch.tensor([target]))


def test_metric_maps_1000_class_scores_per_split():
    dog, bird, wheeled, insect, fish = 0, 1, 2, 5, 8
    batch = [
        # original: 2 of 3 right.
        scored_sample('original', fish, {0: 3.0}),
        # Unmapped 999 on top, dog second: wrong although the target is dog.
        scored_sample('original', dog, {999: 0.6, 151: 0.5}),
        scored_sample('original', wheeled, {407: 0.9, 999: 0.1}),
        # mixed_rand: 1 of 2 right.
        scored_sample('mixed_rand', bird, {152: 1.0}),  # 152 is a dog
        scored_sample('mixed_rand', insect, {300: 1.0, 151: 0.2}),
        # mixed_same: 1 of 1.
        scored_sample('mixed_same', wheeled, {880: 0.7}),
    ]
    metric = BGChallengeMetric(label_mapping='imagenet1k_to_in9')
    metric.dataset_meta = dict(classes=IN9_CLASSES)
    metric.process(None, batch[:4])
    metric.process(None, batch[4:])
    metrics = metric.evaluate(size=len(batch))

    assert metrics == pytest.approx(
        {
            'bg_challenge/original': 200 / 3,
            'bg_challenge/mixed_same': 100.0,
            'bg_challenge/mixed_rand': 50.0,
            'bg_challenge/bg_gap': 50.0,
        }
    )


def test_metric_mapping_refuses_scores_of_another_size():
    metric = BGChallengeMetric(label_mapping='imagenet1k_to_in9')
    nine_class = dict(
        split='original', pred_score=torch.zeros(9), gt_label=torch.tensor([0])
    )
    with pytest.raises(ValueError, match="got \\(9,\\).*label_mapping='imagenet1k_"):
        metric.process(None, [nine_class])


def test_metric_mapping_needs_scores():
    metric = BGChallengeMetric(label_mapping='imagenet1k_to_in9')
    labels_only = dict(
        split='original', pred_label=torch.tensor([0]), gt_label=torch.tensor([0])
    )
    with pytest.raises(UserError, match="needs each sample's 'pred_score'"):
        metric.process(None, [labels_only])


@pytest.mark.parametrize(
    'classes, warned',
    [(IN9_CLASSES, False), (('circle', 'square'), True), (IN9_CLASSES[::-1], True)],
)
def test_metric_warns_about_other_test_classes(classes, warned):
    metric = BGChallengeMetric(label_mapping='imagenet1k_to_in9')
    metric.dataset_meta = dict(classes=classes)
    with mock.patch.object(MMLogger, 'get_current_instance') as logger:
        metric.process(None, [scored_sample('original', 0, {151: 1.0})])
    assert logger.return_value.warning.called == warned
    if warned:
        assert (
            f'test set holds {list(classes)}'
            in (logger.return_value.warning.call_args.args[0])
        )


def test_unknown_mapping_is_refused():
    with pytest.raises(ValueError, match="Unknown label_mapping 'in21k'"):
        BGChallengeMetric(label_mapping='in21k')


# --- end to end: tools/test.py with the Base (IN) config on a tiny SynBG ---

# One ImageNet class per IN-9 class, in IN-9 order, and an unmapped one.
CANDIDATES = (151, 7, 407, 33, 269, 300, 401, 365, 0, 999)


@pytest.fixture(scope='module')
def tiny_in1k(tmp_path_factory):
    """A tiny 1000-class ResNet config, its checkpoint and a tiny test set."""
    root = tmp_path_factory.mktemp('in1k')
    data_root = str(root / 'synbg')
    make_tiny_synbg(data_root, seed=3)
    config = root / 'tiny_in1k.py'
    config.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        'model = dict(backbone=dict(depth=18, stem_channels=8, base_channels=8),\n'
        '             head=dict(in_channels=64))\n'
        f'test_dataloader = dict(num_workers=0, batch_size=32,\n'
        f'    dataset=dict(data_root={data_root + "/test_set"!r}))\n'
    )

    torch.manual_seed(1)
    model = MODELS.build(Config.fromfile(str(config)).model)
    state_dict = model.state_dict()
    # Only the candidates can win, so predictions spread over several IN-9
    # classes and the unmapped class 999 instead of one random class.
    others = torch.ones(1000, dtype=torch.bool)
    others[list(CANDIDATES)] = False
    state_dict['head.fc.weight'][others] = 0
    state_dict['head.fc.weight'][~others] *= 20
    state_dict['head.fc.bias'][others] = -1e4
    checkpoint = str(root / 'tiny_in1k.pth')
    torch.save(dict(state_dict=state_dict, meta=dict()), checkpoint)
    return str(config), checkpoint, data_root + '/test_set'


def independent_in9_predictions(config, checkpoint, images):
    """Forward pass without MMPretrain's pipeline, mapped by the prose table."""
    model = get_model(config, pretrained=checkpoint, device='cpu')
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    # Decoded by Pillow, as torchvision does in the official evaluation.
    batch = np.stack(
        [
            (np.asarray(Image.open(path).convert('RGB'), np.float32) - mean) / std
            for path in images
        ]
    )
    with torch.no_grad():
        logits = model(torch.from_numpy(batch).permute(0, 3, 1, 2), mode='tensor')
    published = parse_published_mapping(PUBLISHED_MAPPING)
    return [published.get(int(index), UNMAPPED) for index in logits.argmax(dim=1)]


def test_test_tool_evaluates_an_imagenet_model_on_in9(tiny_in1k, tmp_path):
    config, checkpoint, test_root = tiny_in1k
    work_dir = tmp_path / 'test'
    completed = subprocess.run(
        [
            sys.executable,
            'tools/test.py',
            config,
            checkpoint,
            '--work-dir',
            str(work_dir),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results_path,) = work_dir.glob('*/bg_challenge.json')
    results = json.loads(results_path.read_text())

    splits = sorted(os.listdir(test_root))
    splits.remove('fg_mask')
    images, labels, image_splits = [], [], []
    for split in splits:
        class_dirs = sorted(os.listdir(osp.join(test_root, split, 'val')))
        for label, class_dir in enumerate(class_dirs):
            class_path = osp.join(test_root, split, 'val', class_dir)
            for name in sorted(os.listdir(class_path)):
                images.append(osp.join(class_path, name))
                labels.append(label)
                image_splits.append(split)
    predicted = independent_in9_predictions(config, checkpoint, images)
    # The test is only telling if several outcomes occur.
    assert UNMAPPED in predicted and len(set(predicted)) >= 3

    assert len(splits) == 8
    assert any(results[f'bg_challenge/{split}'] > 0 for split in splits)
    for split in splits:
        hits = [
            p == t
            for p, t, s in zip(predicted, labels, image_splits, strict=True)
            if s == split
        ]
        expected = 100.0 * sum(hits) / len(hits)
        assert results[f'bg_challenge/{split}'] == pytest.approx(expected), split
    assert results['bg_challenge/bg_gap'] == pytest.approx(
        results['bg_challenge/mixed_same'] - results['bg_challenge/mixed_rand']
    )
    assert '| mixed_rand |' in completed.stdout
