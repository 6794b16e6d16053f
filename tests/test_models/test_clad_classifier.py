"""CLADClassifier: losses of CLAD / CLAD+ against hand computations, queue order,
feat_dim following the head, prediction unchanged."""

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401
from clad_mm.utils.errors import UserError

NUM_CLASSES = 3
FEAT_DIM = 512
QUEUE_SIZE = 4
TEMPERATURE = 0.2


def build(dictionary=None, **overrides):
    cfg = dict(
        type='CLADClassifier',
        backbone=dict(type='ResNet', depth=18, zero_init_residual=False),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=FEAT_DIM),
        contrastive_head=dict(
            type='InfoNCEHead', temperature=TEMPERATURE, loss_weight=1.0
        ),
        dictionary=dict(
            type='NegativeDictionary',
            num_keys=NUM_CLASSES,
            queue_size=QUEUE_SIZE,
            **(dictionary or {}),
        ),
        data_preprocessor=dict(mean=[0.0] * 3, std=[1.0] * 3),
    )
    cfg.update(overrides)
    return MODELS.build(cfg)


def embeddings(model, views):
    """Pre-logits of anchors and positives, computed as the model's loss does.

    Both views go through the network as one batch (batch-norm statistics
    of the training mode depend on it), and a second pass of the same batch
    gives the same features.
    """
    with torch.no_grad():
        features = model.extract_feat(torch.cat(views))
        pre_logits = model.head.pre_logits(features)
    return pre_logits[: len(views[0])], pre_logits[len(views[0]) :]


def reference_info_nce(anchors, positives, negatives):
    """Mean over anchors of -log(e^{s+/τ} / (e^{s+/τ} + Σ_j e^{s_j/τ})), cosine s."""
    losses = []
    for anchor, positive, anchor_negatives in zip(anchors, positives, negatives):
        positive_logit = F.cosine_similarity(anchor, positive, dim=0) / TEMPERATURE
        negative_logits = (
            F.cosine_similarity(anchor[None], anchor_negatives, dim=1) / TEMPERATURE
        )
        denominator = positive_logit.exp() + negative_logits.exp().sum()
        losses.append(-(positive_logit.exp() / denominator).log())
    return torch.stack(losses).mean()


def enqueue_by_hand(queues, positives, keys):
    """Queues after a FIFO write of the positives at pointers 0 (full queues)."""
    queues = queues.clone()
    written = [0] * len(queues)
    for positive, key in zip(positives, keys):
        queues[key, written[key]] = positive
        written[key] += 1
    return queues


def batch(labels, key_labels, key_field='pos_bg_label'):
    torch.manual_seed(0)
    views = [torch.rand(len(labels), 3, 32, 32) for _ in range(2)]
    samples = []
    for label, key in zip(labels, key_labels):
        sample = DataSample().set_gt_label(label)
        sample.set_field(key, key_field)
        samples.append(sample)
    return views, samples


LABELS, POSITIVE_KEYS = [0, 1, 2, 0], [1, 2, 0, 2]


def test_each_anchor_takes_the_queue_of_its_own_label_as_negatives():
    views, samples = batch(LABELS, POSITIVE_KEYS)
    model = build(dictionary=dict(init_mode='random'))
    queues_before = model.dictionary.queues.clone()
    loss = model.loss(views, samples)['loss_infonce']

    anchors, positives = embeddings(model, views)
    # The paper's order: this batch's positives are in the queues first.
    queues = enqueue_by_hand(queues_before, positives, POSITIVE_KEYS)
    torch.testing.assert_close(model.dictionary.queues, queues)
    own_label = reference_info_nce(anchors, positives, queues[LABELS])
    torch.testing.assert_close(loss, own_label)
    # Looking up the positives' keys instead would give another value.
    positive_keys = reference_info_nce(anchors, positives, queues[POSITIVE_KEYS])
    assert not torch.isclose(own_label, positive_keys, rtol=1e-3)


def test_clad_plus_total_is_both_cross_entropies_plus_weighted_info_nce():
    views, samples = batch(LABELS, POSITIVE_KEYS)
    weight = 0.5
    contrastive_head = dict(
        type='InfoNCEHead', temperature=TEMPERATURE, loss_weight=weight
    )
    random_queues = dict(init_mode='random')
    model = build(random_queues, contrastive_head=contrastive_head, with_pos_loss=True)
    clad = build(random_queues, contrastive_head=contrastive_head)
    clad.load_state_dict(model.state_dict())
    queues_before = model.dictionary.queues.clone()
    losses = model.loss(views, samples)
    total, _ = model.parse_losses(losses)

    anchors, positives = embeddings(model, views)
    labels = torch.tensor(LABELS)
    fc = model.head.fc
    anchor_ce = F.cross_entropy(F.linear(anchors, fc.weight, fc.bias), labels)
    # The positive keeps the anchor's foreground, hence the anchor's label.
    positive_ce = F.cross_entropy(F.linear(positives, fc.weight, fc.bias), labels)
    queues = enqueue_by_hand(queues_before, positives, POSITIVE_KEYS)
    info_nce = reference_info_nce(anchors, positives, queues[LABELS])
    torch.testing.assert_close(losses['loss_cls'], anchor_ce)
    torch.testing.assert_close(losses['loss_pos'], positive_ce)
    torch.testing.assert_close(losses['loss_infonce'], weight * info_nce)
    torch.testing.assert_close(total, anchor_ce + positive_ce + weight * info_nce)
    # CLAD, from the same weights and queues, is that sum without loss_pos.
    clad_losses = clad.loss(views, samples)
    assert 'loss_pos' not in clad_losses
    torch.testing.assert_close(
        clad.parse_losses(clad_losses)[0], anchor_ce + weight * info_nce
    )


def test_clad_plus_gradients_reach_the_backbone():
    views, samples = batch(LABELS, POSITIVE_KEYS)
    model = build(with_pos_loss=True)
    total, _ = model.parse_losses(model.loss(views, samples))
    total.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


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
    with pytest.raises(UserError, match='pos_texture_label.*TextureSwap'):
        build(dictionary_key='pos_texture_label').loss(views, samples)


def test_enqueue_order_decides_whether_the_batch_positives_are_negatives():
    # Anchor 1 (label 1) takes queue 1 as negatives, and the positive of
    # anchor 0 has background 1: before the loss it is among anchor 1's
    # negatives, after the loss it is not.
    views, samples = batch(LABELS, POSITIVE_KEYS)
    for enqueue_before_loss in (True, False):
        model = build(
            dictionary=dict(init_mode='random'),
            enqueue_before_loss=enqueue_before_loss,
        )
        seen = {}
        loss = model.contrastive_head.loss

        def recording_loss(anchor, positive, negatives, valid, loss=loss, seen=seen):
            seen['negatives'] = negatives
            return loss(anchor, positive, negatives, valid)

        model.contrastive_head.loss = recording_loss
        model.loss(views, samples)
        _, positives = embeddings(model, views)
        distances = (seen['negatives'][1] - positives[0]).abs().sum(dim=1)
        assert bool(distances.min() < 1e-6) is enqueue_before_loss
        # Either way the batch's positives end up in their keys' queues.
        torch.testing.assert_close(model.dictionary.queues[1, 0], positives[0])


def test_single_class_batch_gives_the_reference_losses():
    # Every anchor has label 1: the paper's first-batch initialisation has no
    # feature of another class for queue 1, which stays empty, and the
    # positives go to queues 0 and 2. With no negative, an anchor's InfoNCE
    # is -log(e^{s+/τ} / e^{s+/τ}) = 0; the cross-entropy is unaffected.
    labels = [1, 1, 1, 1]
    views, samples = batch(labels, [0, 2, 0, 2])
    model = build()
    losses = model.loss(views, samples)
    assert int(model.dictionary.num_written[1]) == 0
    assert losses['loss_infonce'].item() == 0.0
    anchors, _ = embeddings(model, views)
    fc = model.head.fc
    reference_ce = F.cross_entropy(
        F.linear(anchors, fc.weight, fc.bias), torch.tensor(labels)
    )
    torch.testing.assert_close(losses['loss_cls'], reference_ce)


def test_feat_dim_follows_the_head_and_a_mismatch_names_both_keys():
    head = dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=FEAT_DIM)
    assert build(head=head).dictionary.feat_dim == FEAT_DIM
    with pytest.raises(
        ValueError,
        match=r'model\.dictionary\.feat_dim=256.*'
        r'model\.head\.in_channels=512',
    ):
        build(head=head, dictionary=dict(feat_dim=256))
    with pytest.raises(ValueError, match=r'model\.dictionary\.feat_dim'):
        build(head=dict(type='ClsHead'))


def test_missing_background_label_is_a_clear_error():
    views, samples = batch([0, 1], [1, 0])
    for sample in samples:
        del sample.pos_bg_label
    with pytest.raises(UserError, match='pos_bg_label'):
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
