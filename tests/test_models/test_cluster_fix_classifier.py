"""ClusterFixClassifier: the loss, the routing of the pseudo heads, the state."""

import json

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from mmpretrain.utils import register_all_modules

import clad_mm  # noqa: F401
from clad_mm.utils.errors import UserError

register_all_modules()

# 2 classes x 2 clusters; 6 training images.
PSEUDO = {
    'format': 'clad_mm.pseudo_labels',
    'version': 1,
    'clusters_per_class': 2,
    'num_classes': 2,
    'splits': {'train': {f'img{i}.jpg': c for i, c in enumerate([0, 0, 1, 2, 3, 3])}},
    'cluster_sizes': [2, 1, 1, 2],
}


@pytest.fixture
def pseudo_file(tmp_path):
    path = tmp_path / 'pseudo.json'
    path.write_text(json.dumps(PSEUDO))
    return str(path)


def build(pseudo_file, **kwargs):
    return MODELS.build(
        dict(
            type='ClusterFixClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=2, in_channels=512),
            pseudo_labels=pseudo_file,
            feat_channels=512,
            **kwargs,
        )
    )


def samples(indices, labels, clusters):
    batch = []
    for index, label, cluster in zip(indices, labels, clusters):
        sample = DataSample(metainfo=dict(sample_idx=index)).set_gt_label(label)
        sample.set_field(cluster, 'pseudo_label')
        batch.append(sample)
    return batch


def test_loss_is_weighted_target_ce_plus_beta_pseudo_ce(pseudo_file):
    torch.manual_seed(0)
    model = build(pseudo_file, beta=0.5)
    inputs = torch.rand(3, 3, 32, 32)
    batch = samples([1, 3, 4], [0, 1, 1], [0, 2, 3])
    losses = model.loss(inputs, batch)
    # Independent recomputation from the model's layers.
    pooled = model.neck(model.backbone(inputs))[-1]
    targets = torch.tensor([0, 1, 1])
    target_ce = F.cross_entropy(model.head.fc(pooled), targets, reduction='none')
    # Class 0's head is outputs 0-1, class 1's outputs 2-3: sample 1 (class
    # 0, cluster 0) reads outputs 0-1 with local label 0; samples 3 and 4
    # (class 1, clusters 2 and 3) read outputs 2-3 with labels 0 and 1.
    all_logits = model.pseudo_head(pooled)
    pseudo_ce = torch.stack(
        [
            F.cross_entropy(all_logits[0, 0:2], torch.tensor(0)),
            F.cross_entropy(all_logits[1, 2:4], torch.tensor(0)),
            F.cross_entropy(all_logits[2, 2:4], torch.tensor(1)),
        ]
    )
    weights = model.cluster_state.weights[[1, 3, 4]].float()
    torch.testing.assert_close(losses['loss'], (weights * target_ce).mean())
    torch.testing.assert_close(losses['loss_pseudo'], 0.5 * pseudo_ce.mean())
    # The state kept the pseudo-label losses (not split-plus).
    torch.testing.assert_close(
        model.cluster_state.last_losses[[1, 3, 4]].float(), pseudo_ce.detach()
    )
    assert model.cluster_state.weights.dtype == torch.float64


def test_split_plus_keeps_target_plus_beta_pseudo(pseudo_file):
    torch.manual_seed(0)
    model = build(pseudo_file, beta=0.5, split_plus=True)
    inputs = torch.rand(2, 3, 32, 32)
    model.loss(inputs, samples([0, 5], [0, 1], [0, 3]))
    pooled = model.neck(model.backbone(inputs))[-1]
    target_ce = F.cross_entropy(
        model.head.fc(pooled), torch.tensor([0, 1]), reduction='none'
    )
    logits = model.pseudo_head(pooled)
    pseudo_ce = torch.stack(
        [
            F.cross_entropy(logits[0, 0:2], torch.tensor(0)),
            F.cross_entropy(logits[1, 2:4], torch.tensor(1)),
        ]
    )
    torch.testing.assert_close(
        model.cluster_state.last_losses[[0, 5]].float(),
        (target_ce + 0.5 * pseudo_ce).detach(),
    )


def test_prediction_never_touches_the_state(pseudo_file):
    model = build(pseudo_file).eval()
    before = {k: v.clone() for k, v in model.cluster_state.state_dict().items()}
    with torch.no_grad():
        out = model(
            torch.rand(2, 3, 32, 32), samples([0, 1], [0, 0], [0, 1]), mode='predict'
        )
    assert out[0].pred_score.shape == (2,)
    for name, value in model.cluster_state.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_mistakes_are_named(pseudo_file):
    model = build(pseudo_file)
    inputs = torch.rand(2, 3, 32, 32)
    with pytest.raises(UserError, match='do not belong to the classes'):
        model.loss(inputs, samples([0, 1], [1, 0], [0, 1]))
    bare = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(0) for i in range(2)]
    with pytest.raises(UserError, match='LoadPseudoLabel'):
        model.loss(inputs, bare)
    with pytest.raises(UserError, match='num_classes=3 but the pseudo-label file'):
        MODELS.build(
            dict(
                type='ClusterFixClassifier',
                backbone=dict(type='ResNet', depth=18),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
                pseudo_labels=pseudo_file,
                feat_channels=512,
            )
        )


def test_load_pseudo_label_transform(pseudo_file):
    from clad_mm.datasets.transforms import LoadPseudoLabel

    transform = LoadPseudoLabel(pseudo_file)
    assert transform({'img_path': 'img3.jpg', 'gt_label': 1})['pseudo_label'] == 2
    with pytest.raises(
        UserError, match="other.jpg has no pseudo-label in the 'train' split"
    ):
        transform({'img_path': 'other.jpg', 'gt_label': 0})
    with pytest.raises(UserError, match='belongs to class 1'):
        transform({'img_path': 'img3.jpg', 'gt_label': 0})
    with pytest.raises(UserError, match="no split 'val'"):
        LoadPseudoLabel(pseudo_file, split='val')


def test_three_classes_and_a_batch_of_one_sample(tmp_path):
    # 3 classes x 3 clusters; a batch of one image (where a .squeeze() would
    # drop the batch dimension) and one with a single image of a class.
    content = {
        **PSEUDO,
        'clusters_per_class': 3,
        'num_classes': 3,
        'splits': {'train': {f'img{i}.jpg': c for i, c in enumerate([0, 4, 8, 7])}},
        'cluster_sizes': [1, 0, 0, 0, 1, 0, 0, 1, 1],
    }
    path = tmp_path / 'three.json'
    path.write_text(json.dumps(content))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ClusterFixClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
            pseudo_labels=str(path),
            feat_channels=512,
        )
    )
    assert model.pseudo_head.out_features == 9
    one = model.loss(torch.rand(1, 3, 64, 64), samples([2], [2], [8]))
    assert one['loss'].dim() == 0 and torch.isfinite(one['loss'])
    # A lone sample's weight is its cluster's, renormalised to 1.
    assert model.cluster_state.weights[2].item() == pytest.approx(1.0)
    mixed = model.loss(
        torch.rand(3, 3, 32, 32), samples([0, 1, 3], [0, 1, 2], [0, 4, 7])
    )
    assert torch.isfinite(mixed['loss'])
    assert model.cluster_state.seen.tolist() == [True] * 4
