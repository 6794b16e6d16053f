"""ClusterFix's pseudo-labels (Capitani et al., WACV 2024): per-class cosine
k-means, assignment, group make-up, the pseudo-label file and the tool."""

import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image
from sklearn.metrics import adjusted_rand_score

import clad_mm  # noqa: F401  (registers WaterbirdsDataset)
from clad_mm.analysis.pseudo_labels import (
    assign_to_centres,
    cluster_group_makeup,
    cluster_per_class,
    load_feature_model,
    majority_group_shares,
    shuffle_within_class,
    within_class_mutual_information,
)
from clad_mm.datasets import WaterbirdsDataset
from clad_mm.datasets.pseudo_label_file import load_pseudo_labels
from clad_mm.utils.errors import MissingFileError, UserError

TOOL = 'analysis/make_pseudo_labels.py'


# ------------------------------------------------------------- the k-means


def planted_clusters(per_cluster=12, noise=0.05, seed=0):
    """2 classes x 3 clusters around orthogonal directions of R^8.

    Returns features (not unit: scaled by random norms, which cosine
    clustering must ignore), labels and the planted cluster of each sample
    (``3 * class + j``).
    """
    rng = np.random.default_rng(seed)
    directions = np.eye(8)[:6]
    features, labels, planted = [], [], []
    for cluster, direction in enumerate(directions):
        points = direction + noise * rng.standard_normal((per_cluster, 8))
        features.append(points * rng.uniform(0.5, 5.0, (per_cluster, 1)))
        labels += [cluster // 3] * per_cluster
        planted += [cluster] * per_cluster
    order = rng.permutation(len(labels))
    return (
        np.concatenate(features)[order],
        np.array(labels)[order],
        np.array(planted)[order],
    )


def test_planted_clusters_are_recovered_within_each_class():
    features, labels, planted = planted_clusters()

    global_ids, centres = cluster_per_class(features, labels, 3, seed=0)

    assert global_ids.dtype == np.int64
    assert centres.shape == (6, 8)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    for label in (0, 1):
        members = labels == label
        assert adjusted_rand_score(planted[members], global_ids[members]) == 1.0
    # Global id = local id + k * class: class 0 uses 0..2, class 1 uses 3..5.
    np.testing.assert_array_equal(global_ids // 3, labels)
    assert set(global_ids[labels == 0]) == {0, 1, 2}
    assert set(global_ids[labels == 1]) == {3, 4, 5}
    # Each centre is its planted direction.
    for cluster in range(6):
        direction = planted[global_ids == cluster][0]
        assert centres[cluster] @ np.eye(8)[direction] > 0.99


def test_same_seed_same_clusters():
    features, labels, _ = planted_clusters(noise=0.6, seed=3)

    first = cluster_per_class(features, labels, 4, seed=7)
    second = cluster_per_class(features, labels, 4, seed=7)

    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_a_class_with_fewer_images_than_clusters_is_named():
    features = np.random.default_rng(0).standard_normal((8, 4))
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1])

    with pytest.raises(UserError, match=r'class 1 \(waterbird\) has 3 training'):
        cluster_per_class(features, labels, 4, class_names=('landbird', 'waterbird'))
    # A trailing class without images is caught through the class names.
    with pytest.raises(UserError, match=r'class 2 \(other\) has 0 training'):
        cluster_per_class(features, labels, 3, class_names=('a', 'b', 'other'))


def test_new_points_join_the_nearest_centre_of_their_own_class():
    # k = 2: class 0's centres along e0 and e1, class 1's along e2 and e3.
    centres = np.eye(4) * 3.0  # any norm: cosine only
    features = np.array(
        [
            [0.9, 0.1, 0.0, 0.0],  # class 0, near e0 -> 0
            [0.1, 0.9, 0.0, 0.0],  # class 0, near e1 -> 1
            [0.0, 0.0, 0.2, 0.8],  # class 1, near e3 -> 3
            # Class 0 but on class 1's centre e2: still a class-0 cluster,
            # the closer of e0 (0.3) and e1 (0.1).
            [0.3, 0.1, 5.0, 0.0],
            # Class 1 on class 0's centre e1: its own class's e2 (0.2).
            [0.0, 4.0, 0.2, 0.1],
        ]
    )
    labels = np.array([0, 0, 1, 0, 1])

    global_ids = assign_to_centres(features, labels, centres, 2)

    np.testing.assert_array_equal(global_ids, [0, 1, 3, 0, 2])


def test_assignment_reproduces_the_train_clusters():
    features, labels, _ = planted_clusters()
    global_ids, centres = cluster_per_class(features, labels, 3, seed=0)

    np.testing.assert_array_equal(
        assign_to_centres(features, labels, centres, 3), global_ids
    )


def test_assignment_refuses_a_label_without_centres():
    with pytest.raises(ValueError, match='label 2 is outside the 2 classes'):
        assign_to_centres(np.ones((1, 3)), np.array([2]), np.eye(3)[[0, 1, 2, 0]], 2)


def test_shuffle_within_class_keeps_sizes_and_classes_and_moves_members():
    ids = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 0, 1])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    shuffled = shuffle_within_class(ids, labels, seed=3)
    for label in (0, 1):
        members = labels == label
        assert sorted(shuffled[members]) == sorted(ids[members])
    assert not np.array_equal(shuffled, ids)
    assert np.array_equal(shuffle_within_class(ids, labels, seed=3), shuffled)
    assert ids.tolist() == [0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 0, 1]  # input untouched


def test_group_makeup_counts_and_recovery():
    # 2 classes x k = 2 -> clusters 0..3; groups 0..3 (class 0: groups 0, 1).
    global_ids = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3])
    groups = np.array([0, 0, 1, 1, 1, 2, 3, 3, 2])
    labels = global_ids // 2

    makeup = cluster_group_makeup(global_ids, groups, num_clusters=5, num_groups=4)

    expected = np.array(
        [
            [2, 1, 0, 0],
            [0, 2, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 1, 2],
            [0, 0, 0, 0],  # an empty fifth cluster
        ]
    )
    np.testing.assert_array_equal(makeup, expected)
    shares = majority_group_shares(makeup)
    np.testing.assert_allclose(shares[:4], [2 / 3, 1.0, 1.0, 2 / 3])
    assert np.isnan(shares[4])
    # Clusters equal to the groups score 1, within each class.
    assert within_class_mutual_information(groups, groups, groups // 2, 2) == [
        1.0,
        1.0,
    ]
    partial = within_class_mutual_information(global_ids, groups, labels, 3)
    assert all(score < 1 for score in partial[:2])
    assert np.isnan(partial[2])


# ------------------------------------------------------- the pseudo-label file


def write_json(path, content):
    path.write_text(json.dumps(content))
    return str(path)


VALID_FILE = {
    'format': 'clad_mm.pseudo_labels',
    'version': 1,
    'clusters_per_class': 2,
    'num_classes': 2,
    'splits': {'train': {'a.jpg': 0, 'b.jpg': 3}, 'val': {'c.jpg': 2}},
    'cluster_sizes': [1, 0, 0, 1],
}


def test_a_valid_pseudo_label_file_loads(tmp_path):
    assert load_pseudo_labels(write_json(tmp_path / 'pl.json', VALID_FILE)) == (
        VALID_FILE
    )


@pytest.mark.parametrize(
    'change, fragment',
    [
        (dict(format='clad_mm.other'), "format is 'clad_mm.other'"),
        (dict(version=2), 'version 2'),
        (dict(clusters_per_class=0), 'clusters_per_class must be a positive'),
        (dict(splits={'val': {}}), 'at least "train"'),
        (dict(splits={'train': {'a.jpg': 4}}), 'the cluster 4, expected an integer'),
        (dict(splits={'train': {'a.jpg': True}}), 'the cluster True'),
        (dict(cluster_sizes=[1, 0, 1]), 'cluster_sizes must list 4 non-negative'),
        (dict(cluster_sizes=[1, 0, 0, -1]), 'cluster_sizes must list 4'),
    ],
)
def test_a_bad_pseudo_label_file_is_named(tmp_path, change, fragment):
    path = write_json(tmp_path / 'pl.json', {**VALID_FILE, **change})

    with pytest.raises(UserError, match=fragment) as error:
        load_pseudo_labels(path)
    assert path in str(error.value)


def test_a_missing_or_broken_pseudo_label_file_is_named(tmp_path):
    missing = str(tmp_path / 'none.json')
    with pytest.raises(MissingFileError, match=missing):
        load_pseudo_labels(missing)
    broken = tmp_path / 'broken.json'
    broken.write_text('{"format": ')
    with pytest.raises(UserError, match=f'{broken} cannot be read'):
        load_pseudo_labels(str(broken))


# ------------------------------------------------------------------ the tool

HEADER = 'img_id,img_filename,y,split,place,place_filename'
# (img_filename, y, split, place): every group in train, 3 images per class.
ROWS = [
    ('013.Bobolink/Bobolink_0001.jpg', 0, 0, 0),
    ('013.Bobolink/Bobolink_0002.jpg', 0, 0, 0),
    ('013.Bobolink/Bobolink_0003.jpg', 0, 0, 1),
    ('045.Northern_Fulmar/Fulmar_0004.jpg', 1, 0, 0),
    ('045.Northern_Fulmar/Fulmar_0005.jpg', 1, 0, 1),
    ('045.Northern_Fulmar/Fulmar_0006.jpg', 1, 0, 1),
    ('013.Bobolink/Bobolink_0007.jpg', 0, 1, 1),
    ('045.Northern_Fulmar/Fulmar_0008.jpg', 1, 1, 0),
    ('013.Bobolink/Bobolink_0009.jpg', 0, 2, 0),
    ('045.Northern_Fulmar/Fulmar_0010.jpg', 1, 2, 1),
]
GROUP_NAMES = (
    'landbird on land',
    'landbird on water',
    'waterbird on land',
    'waterbird on water',
)


def write_waterbirds(root):
    """A tiny Waterbirds release: metadata.csv and 32 px random JPEGs."""
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for img_id, (filename, y, split, place) in enumerate(ROWS, start=1):
        lines.append(f'{img_id},{filename},{y},{split},{place},/p/{img_id}.jpg')
        path = root / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        path.write_bytes(cv2.imencode('.jpg', image)[1].tobytes())
    (root / 'metadata.csv').write_text('\n'.join(lines) + '\n')


def classifier_config(data_root, base_channels=8, num_classes=2, init_cfg=None):
    """A tiny ResNet-18 ImageClassifier at 32 px, with Waterbirds splits."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    backbone = dict(
        type='ResNet', depth=18, stem_channels=8, base_channels=base_channels
    )
    if init_cfg is not None:
        backbone['init_cfg'] = init_cfg
    config = dict(
        model=dict(
            type='ImageClassifier',
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=num_classes,
                in_channels=8 * base_channels,
            ),
        ),
        data_preprocessor=dict(
            mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
        ),
    )
    for split in ('train', 'val', 'test'):
        config[f'{split}_dataloader'] = dict(
            batch_size=2,
            dataset=dict(
                type='WaterbirdsDataset',
                data_root=str(data_root),
                split=split,
                pipeline=pipeline,
            ),
        )
    return config


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """The data, a config and a random-init checkpoint of its model."""
    from mmpretrain.apis import get_model

    root = tmp_path_factory.mktemp('pseudo_labels')
    data_root = root / 'waterbird_complete95_forest2water2'
    write_waterbirds(data_root)
    config_path = str(root / 'resnet18_waterbirds.py')
    Config(classifier_config(data_root)).dump(config_path)
    torch.manual_seed(0)
    checkpoint = str(root / 'resnet18.pth')
    torch.save({'state_dict': get_model(config_path).state_dict()}, checkpoint)
    return root, data_root, config_path, checkpoint


def tool_arguments(config, checkpoint, out, *extra):
    checkpoints = [checkpoint] if checkpoint else []
    return (
        config,
        *checkpoints,
        '--data-config',
        config,
        '--out',
        out,
        '--clusters-per-class',
        2,
        '--batch-size',
        4,
        '--device',
        'cpu',
        *extra,
    )


def test_tool_writes_pseudo_labels_clusters_figure_and_table(
    workspace, tmp_path, run_cli
):
    _, data_root, config, checkpoint = workspace
    out = tmp_path / 'waterbirds_pl.json'

    result = run_cli(TOOL, *tool_arguments(config, checkpoint, out))

    assert result.status == 0, result.stderr
    written = json.loads(out.read_text())
    assert set(written) == {
        'format',
        'version',
        'clusters_per_class',
        'num_classes',
        'feature_config',
        'checkpoint',
        'data_config',
        'seed',
        'shuffled_within_class',
        'splits',
        'cluster_sizes',
    }
    assert (written['format'], written['version']) == ('clad_mm.pseudo_labels', 1)
    assert (written['clusters_per_class'], written['num_classes']) == (2, 2)
    assert (written['feature_config'], written['checkpoint']) == (config, checkpoint)
    assert (written['data_config'], written['seed']) == (config, 0)
    assert written['shuffled_within_class'] is False
    assert load_pseudo_labels(str(out)) == written
    for split in ('train', 'val', 'test'):
        dataset = WaterbirdsDataset(str(data_root), split)
        infos = [dataset.get_data_info(index) for index in range(len(dataset))]
        assignment = written['splits'][split]
        assert list(assignment) == [info['img_path'] for info in infos]
        for info in infos:  # a cluster of the image's own class
            assert assignment[info['img_path']] // 2 == info['gt_label']
    assert len(written['cluster_sizes']) == 4
    assert sum(written['cluster_sizes']) == 6  # the train images
    train_ids = list(written['splits']['train'].values())
    assert written['cluster_sizes'] == [train_ids.count(c) for c in range(4)]

    clusters = json.loads((tmp_path / 'waterbirds_pl_clusters.json').read_text())
    assert clusters['classes'] == ['landbird', 'waterbird']
    assert clusters['group_names'] == list(GROUP_NAMES)
    assert list(clusters['splits']) == ['train', 'val', 'test']
    train = clusters['splits']['train']
    assert [entry['images'] for entry in train] == [3, 3]
    for label, entry in enumerate(train):
        assert [cluster['cluster'] for cluster in entry['clusters']] == [
            2 * label,
            2 * label + 1,
        ]
        assert 'adjusted_mutual_information' in entry
        for cluster in entry['clusters']:
            assert cluster['size'] == written['cluster_sizes'][cluster['cluster']]
            assert sum(cluster['group_counts'].values()) == cluster['size']
            # Only the class's own groups.
            other = GROUP_NAMES[2 - 2 * label : 4 - 2 * label]
            assert all(cluster['group_counts'][name] == 0 for name in other)

    assert '| class | cluster | train images | val images | test images |' in (
        result.stdout
    )
    assert '| landbird | 0 |' in result.stdout
    assert 'AMI(clusters, groups)' in result.stdout
    with Image.open(tmp_path / 'waterbirds_pl_clusters.png') as figure:
        assert figure.format == 'PNG'
        figure.load()
        assert figure.size[0] > figure.size[1] > 300

    # Kept without --overwrite, replaced with it, with the same labels.
    refused = run_cli(TOOL, *tool_arguments(config, checkpoint, out))
    refused.assert_user_error('waterbirds_pl.json', '--overwrite')
    assert json.loads(out.read_text()) == written
    again = run_cli(TOOL, *tool_arguments(config, checkpoint, out, '--overwrite'))
    assert again.status == 0, again.stderr
    assert json.loads(out.read_text()) == written


def test_tool_labels_only_the_splits_asked_for(workspace, tmp_path, run_cli):
    _, _, config, checkpoint = workspace
    out = tmp_path / 'train_only.json'
    result = run_cli(
        TOOL, *tool_arguments(config, checkpoint, out, '--splits', 'train')
    )
    assert result.status == 0, result.stderr
    assert list(json.loads(out.read_text())['splits']) == ['train']
    refused = run_cli(
        TOOL,
        *tool_arguments(config, checkpoint, tmp_path / 'x.json', '--splits', 'val'),
    )
    assert refused.status == 2 and '--splits must include train' in refused.stderr


def test_tool_shuffled_control_keeps_the_cluster_sizes(workspace, tmp_path, run_cli):
    _, _, config, checkpoint = workspace
    clustered, control = tmp_path / 'clustered.json', tmp_path / 'control.json'
    for out, extra in ((clustered, ()), (control, ('--shuffle-within-class',))):
        result = run_cli(TOOL, *tool_arguments(config, checkpoint, out, *extra))
        assert result.status == 0, result.stderr
    clustered, control = (json.loads(p.read_text()) for p in (clustered, control))
    assert control['shuffled_within_class'] is True
    assert control['cluster_sizes'] == clustered['cluster_sizes']
    assert control['splits']['val'] == clustered['splits']['val']
    assert control['splits']['train'].keys() == clustered['splits']['train'].keys()
    for path, cluster in control['splits']['train'].items():
        assert cluster // 2 == clustered['splits']['train'][path] // 2


def test_tool_without_checkpoint_uses_the_pretrained_backbone(
    workspace, tmp_path, run_cli
):
    root, data_root, config, checkpoint = workspace
    pretrained_config = str(tmp_path / 'pretrained.py')
    Config(
        classifier_config(
            data_root,
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone'),
        )
    ).dump(pretrained_config)
    explicit, pretrained = tmp_path / 'explicit.json', tmp_path / 'pretrained.json'

    first = run_cli(TOOL, *tool_arguments(config, checkpoint, explicit))
    second = run_cli(TOOL, *tool_arguments(pretrained_config, None, pretrained))

    assert first.status == 0, first.stderr
    assert second.status == 0, second.stderr
    from_pretrained = json.loads(pretrained.read_text())
    assert from_pretrained['checkpoint'] == checkpoint
    assert from_pretrained['splits'] == json.loads(explicit.read_text())['splits']


def test_tool_names_a_class_too_small_for_its_clusters(workspace, tmp_path, run_cli):
    _, _, config, checkpoint = workspace
    arguments = tool_arguments(config, checkpoint, tmp_path / 'pl.json')
    result = run_cli(TOOL, *arguments, '--clusters-per-class', 4)
    result.assert_user_error('class 0 (landbird) has 3 training images')
    assert not (tmp_path / 'pl.json').exists()


def test_tool_without_checkpoint_or_pretrained_init_is_refused(
    workspace, tmp_path, run_cli
):
    _, _, config, _ = workspace
    result = run_cli(TOOL, *tool_arguments(config, None, tmp_path / 'pl.json'))
    result.assert_user_error('no init_cfg of type Pretrained', 'CHECKPOINT')


def test_only_backbone_and_neck_must_fit(workspace):
    _, data_root, _, checkpoint = workspace
    # Another head: features do not depend on it.
    other_head = Config(classifier_config(data_root, num_classes=5))
    model, used = load_feature_model(other_head, checkpoint)
    assert used == checkpoint
    saved = torch.load(checkpoint, weights_only=True)['state_dict']
    torch.testing.assert_close(
        model.backbone.conv1.weight, saved['backbone.conv1.weight']
    )
    # Another backbone: refused.
    wider = Config(classifier_config(data_root, base_channels=16))
    with pytest.raises(UserError, match=r'does not fit.*differ in shape'):
        load_feature_model(wider, checkpoint)
