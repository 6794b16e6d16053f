"""CLADClassifier: losses of CLAD / CLAD+, queue order, prediction unchanged."""

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401

NUM_CLASSES = 3
FEAT_DIM = 512


def build(**overrides):
    cfg = dict(
        type='CLADClassifier',
        backbone=dict(type='ResNet', depth=18, zero_init_residual=False),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=FEAT_DIM),
        contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
        dictionary=dict(
            type='NegativeDictionary',
            num_keys=NUM_CLASSES,
            queue_size=4,
            feat_dim=FEAT_DIM,
        ),
        data_preprocessor=dict(mean=[0.0] * 3, std=[1.0] * 3),
    )
    cfg.update(overrides)
    return MODELS.build(cfg)


def batch(labels, key_labels, key_field='pos_bg_label'):
    torch.manual_seed(0)
    views = [torch.rand(len(labels), 3, 32, 32) for _ in range(2)]
    samples = []
    for label, key in zip(labels, key_labels):
        sample = DataSample().set_gt_label(label)
        sample.set_field(key, key_field)
        samples.append(sample)
    return views, samples


def test_clad_losses_and_clad_plus_positive_loss():
    views, samples = batch([0, 1, 2, 0], [1, 2, 0, 2])
    clad = build()
    losses = clad.loss(views, samples)
    assert {'loss_cls', 'loss_infonce', 'infonce_acc'} <= set(losses)
    assert 'loss' not in losses  # MMEngine's name for the logged total
    assert 'loss_pos' not in losses
    clad_plus = build(with_pos_loss=True)
    losses_plus = clad_plus.loss(views, samples)
    assert losses_plus['loss_pos'] > 0
    total = sum(value for key, value in losses_plus.items() if 'loss' in key)
    total.backward()
    assert clad_plus.backbone.conv1.weight.grad.abs().sum() > 0


def test_queues_hold_positives_under_their_background_label():
    labels, background_labels = [0, 1, 2, 0], [1, 2, 0, 2]
    views, samples = batch(labels, background_labels)
    model = build()
    model.loss(views, samples)
    with torch.no_grad():  # same batch, same batch-norm statistics
        features = model.extract_feat(torch.cat(views))
        positives = model.head.pre_logits(tuple(f[4:] for f in features))
    queues = model.dictionary.queues
    # The first batch filled every queue (pointers back at slot 0), then the
    # positives went in under their background labels, in batch order.
    torch.testing.assert_close(queues[1, 0], positives[0])
    torch.testing.assert_close(queues[2, 0], positives[1])
    torch.testing.assert_close(queues[2, 1], positives[3])
    torch.testing.assert_close(queues[0, 0], positives[2])
    # An anchor's own positive (another background) is never its negative.
    negatives, _ = model.dictionary.negatives(torch.tensor(labels))
    for index in range(len(labels)):
        distances = (negatives[index] - positives[index]).abs().sum(dim=1)
        assert distances.min() > 1e-3


def test_s_clad_keys_the_queues_by_texture_label():
    labels, texture_labels = [0, 1, 2, 0], [1, 2, 0, 2]
    views, samples = batch(labels, texture_labels, key_field='pos_texture_label')
    texture_model = build(dictionary_key='pos_texture_label')
    background_model = build()
    background_model.load_state_dict(texture_model.state_dict())
    texture_model.loss(views, samples)
    # The same keys given as background labels must fill the same queues.
    views, samples = batch(labels, texture_labels)
    background_model.loss(views, samples)
    torch.testing.assert_close(
        texture_model.dictionary.queues, background_model.dictionary.queues
    )
    for sample in samples:
        del sample.pos_bg_label
    with pytest.raises(KeyError, match='pos_texture_label.*TextureSwap'):
        build(dictionary_key='pos_texture_label').loss(views, samples)


def test_enqueue_after_loss_changes_only_the_order():
    views, samples = batch([0, 1, 2, 0], [1, 2, 0, 2])
    torch.manual_seed(1)
    before = build()
    after = build(enqueue_before_loss=False)
    after.load_state_dict(before.state_dict())
    loss_before = before.loss(views, samples)['loss_infonce']
    loss_after = after.loss(views, samples)['loss_infonce']
    torch.testing.assert_close(before.dictionary.queues, after.dictionary.queues)
    assert not torch.isclose(loss_before, loss_after)


def test_single_class_batch_trains():
    views, samples = batch([1, 1, 1, 1], [0, 2, 0, 2])
    model = build()
    losses = model.loss(views, samples)
    assert torch.isfinite(losses['loss_infonce'])


def test_missing_background_label_is_a_clear_error():
    views, samples = batch([0, 1], [1, 0])
    for sample in samples:
        del sample.pos_bg_label
    with pytest.raises(KeyError, match='pos_bg_label'):
        build().loss(views, samples)


def test_single_view_is_a_clear_error():
    views, samples = batch([0, 1], [1, 0])
    with pytest.raises(ValueError, match='TwoViewPipeline'):
        build().loss(views[0], samples)


def test_predict_is_the_image_classifiers():
    model = build().eval()
    image = torch.rand(2, 3, 32, 32)
    predictions = model.predict(image)
    scores = torch.softmax(model(image, mode='tensor'), dim=1)
    torch.testing.assert_close(torch.stack([p.pred_score for p in predictions]), scores)
