"""The embedding neck, the pytorch-metric-learning head and DMLRetriever."""

import math

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from mmpretrain.utils import register_all_modules
from pytorch_metric_learning import losses, miners

import clad_mm  # noqa: F401
from clad_mm.utils.errors import UserError

register_all_modules()


def samples(labels):
    return [DataSample().set_gt_label(label) for label in labels]


def test_neck_pools_projects_and_normalises():
    neck = MODELS.build(dict(type='EmbeddingNeck', in_channels=4, out_channels=3))
    features = torch.randn(2, 4, 5, 5)
    (embeddings,) = neck((torch.randn(2, 8, 3, 3), features))
    expected = neck.fc(features.mean(dim=(2, 3)))
    expected = expected / expected.norm(dim=1, keepdim=True)
    torch.testing.assert_close(embeddings, expected)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2))


def test_neck_names_a_channel_mismatch():
    neck = MODELS.build(dict(type='EmbeddingNeck', in_channels=4))
    with pytest.raises(UserError, match=r'in_channels=4.*\(2, 6\)'):
        neck(torch.randn(2, 6, 3, 3))


def test_triplet_head_matches_a_hand_computed_value():
    # Unit vectors e0=(1,0), e1=(0,1) of class 0 and e2=(-1,0) of class 1.
    # Triplets (a, p, n): (0, 1, 2): relu(|e0-e1| - |e0-e2| + 0.1) =
    # relu(sqrt 2 - 2 + 0.1) = 0; (1, 0, 2): relu(sqrt 2 - sqrt 2 + 0.1) = 0.1.
    # PML averages the non-zero triplet losses: 0.1; loss_weight 2 -> 0.2.
    head = MODELS.build(
        dict(
            type='MetricLearningHead',
            loss=dict(type='TripletMarginLoss', margin=0.1),
            loss_weight=2.0,
        )
    )
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    loss = head.loss((embeddings,), samples([0, 0, 1]))['loss']
    assert math.isclose(loss.item(), 0.2, rel_tol=1e-5)


def test_head_with_miner_equals_pml_called_directly():
    head = MODELS.build(
        dict(
            type='MetricLearningHead',
            loss=dict(type='MultiSimilarityLoss', alpha=2, beta=50, base=0.5),
            miner=dict(type='MultiSimilarityMiner', epsilon=0.1),
        )
    )
    generator = torch.Generator().manual_seed(0)
    embeddings = torch.nn.functional.normalize(torch.randn(16, 8, generator=generator))
    labels = torch.arange(16) % 4
    expected = losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5)(
        embeddings, labels, miners.MultiSimilarityMiner(epsilon=0.1)(embeddings, labels)
    )
    got = head.loss(embeddings, samples(labels.tolist()))['loss']
    torch.testing.assert_close(got, expected)


def test_nested_components_are_built_from_dicts():
    head = MODELS.build(
        dict(
            type='MetricLearningHead',
            loss=dict(
                type='ContrastiveLoss',
                distance=dict(type='CosineSimilarity'),
                pos_margin=1,
                neg_margin=0,
            ),
        )
    )
    assert type(head.loss_module.distance).__name__ == 'CosineSimilarity'


@pytest.mark.parametrize(
    'loss, fragment',
    [
        (dict(type='NoSuchLoss'), "loss.type='NoSuchLoss' is not a class of"),
        (dict(type='TripletMarginLoss', margn=0.1), 'loss=TripletMarginLoss:.*margn'),
    ],
)
def test_config_mistakes_are_named(loss, fragment):
    with pytest.raises(UserError, match=fragment):
        MODELS.build(dict(type='MetricLearningHead', loss=loss))


def build_retriever(**kwargs):
    return MODELS.build(
        dict(
            type='DMLRetriever',
            image_encoder=[
                dict(type='ResNet', depth=18),
                dict(type='EmbeddingNeck', in_channels=512, out_channels=16),
            ],
            head=dict(
                type='MetricLearningHead',
                loss=dict(type='ArcFaceLoss', num_classes=5, embedding_size=16),
            ),
            **kwargs,
        )
    )


def test_frozen_bn_keeps_running_statistics_and_trains_the_rest():
    model = build_retriever()
    model.train()
    bn = model.image_encoder[0].bn1
    before = bn.running_mean.clone()
    loss = model(torch.rand(4, 3, 32, 32), samples([0, 1, 2, 3]), mode='loss')['loss']
    loss.backward()
    torch.testing.assert_close(bn.running_mean, before)
    assert not bn.training and model.training
    assert bn.weight.grad is not None

    unfrozen = build_retriever(frozen_bn=False)
    unfrozen.train()
    before = unfrozen.image_encoder[0].bn1.running_mean.clone()
    unfrozen(torch.rand(4, 3, 32, 32), samples([0, 1, 2, 3]), mode='loss')
    assert not torch.equal(unfrozen.image_encoder[0].bn1.running_mean, before)


def test_predict_gives_embeddings_without_a_gallery_and_scores_with_one():
    model = build_retriever().eval()
    images = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        out = model(images, samples([0, 1, 2]), mode='predict')
        embeddings = model.extract_feat(images)
    assert [tuple(sample.embedding.shape) for sample in out] == [(16,)] * 3
    torch.testing.assert_close(torch.stack([s.embedding for s in out]), embeddings)

    gallery = torch.nn.functional.normalize(torch.randn(7, 16))
    model.prototype = gallery
    model.prepare_prototype()
    with torch.no_grad():
        out = model(images, mode='predict')
    torch.testing.assert_close(out[0].pred_score, gallery @ embeddings[0])


def test_proxies_are_saved_and_take_their_own_learning_rate():
    model = build_retriever()
    assert 'head.loss_module.W' in model.state_dict()
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='RMSprop', lr=1e-6, momentum=0.9),
            paramwise_cfg=dict(custom_keys={'head.loss_module': dict(lr_mult=5000.0)}),
        ),
    )
    proxy = model.head.loss_module.W
    groups = {
        id(p): group['lr']
        for group in wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert math.isclose(groups[id(proxy)], 5e-3)
    assert math.isclose(groups[id(model.image_encoder[1].fc.weight)], 1e-6)
