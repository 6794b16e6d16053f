"""Tests of CLAD's InfoNCE head (clad_mm/models/heads/info_nce_head.py)."""

import pytest
import torch
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS

from clad_mm.models.heads.info_nce_head import InfoNCEHead
from clad_mm.models.losses.info_nce import info_nce_loss


class LossParsingModel(BaseModel):
    """The smallest MMEngine model, to run its own ``parse_losses``."""

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def random_batch(batch_size=6, num_negatives=5, feat_dim=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    anchor = torch.randn(batch_size, feat_dim, generator=generator)
    positive = torch.randn(batch_size, feat_dim, generator=generator)
    negatives = torch.randn(batch_size, num_negatives, feat_dim, generator=generator)
    return anchor.requires_grad_(), positive.requires_grad_(), negatives


def test_built_from_a_config_with_clads_defaults():
    head = MODELS.build(dict(type='InfoNCEHead'))
    assert isinstance(head, InfoNCEHead)
    assert (head.temperature, head.loss_weight, head.loss_name) == (
        0.2,
        1.0,
        'loss_infonce',
    )


def test_loss_dict_holds_weighted_infonce_and_detached_accuracy():
    anchor, positive, negatives = random_batch()
    head = InfoNCEHead(temperature=0.5, loss_weight=0.3)
    losses = head.loss(anchor, positive, negatives)

    assert set(losses) == {'loss_infonce', 'infonce_acc'}
    expected = 0.3 * info_nce_loss(anchor, positive, negatives, temperature=0.5)
    assert torch.allclose(losses['loss_infonce'], expected)
    assert losses['loss_infonce'].requires_grad
    assert not losses['infonce_acc'].requires_grad
    assert 0.0 <= losses['infonce_acc'].item() <= 100.0


def test_accuracy_counts_anchors_ranked_right():
    # The first two anchors meet their own copy as positive (cosine 1); the
    # last two have a negative equal to the anchor, closer than their
    # positive (cosine 1 against 0.5): two hits, two misses.
    anchor = torch.eye(4)
    positive = torch.eye(4)
    positive[2:] = torch.ones(2, 4)
    negatives = -torch.eye(4)[:, None, :].repeat(1, 3, 1)
    negatives[2:, 0] = anchor[2:]
    losses = InfoNCEHead().loss(anchor, positive, negatives)
    assert losses['infonce_acc'].item() == pytest.approx(50.0)


def test_valid_mask_reaches_the_loss():
    anchor, positive, negatives = random_batch()
    valid_mask = torch.ones(6, 5, dtype=torch.bool)
    valid_mask[:, 3:] = False
    losses = InfoNCEHead().loss(anchor, positive, negatives, valid_mask)
    expected = info_nce_loss(anchor, positive, negatives[:, :3])
    assert torch.allclose(losses['loss_infonce'], expected)


def test_mmengine_sums_the_loss_but_only_logs_the_accuracy():
    anchor, positive, negatives = random_batch()
    classification_loss = torch.tensor(1.25, requires_grad=True)
    losses = dict(loss=classification_loss)
    losses.update(InfoNCEHead().loss(anchor, positive, negatives))

    total, log_vars = LossParsingModel().parse_losses(losses)

    assert torch.allclose(total, classification_loss + losses['loss_infonce'])
    assert log_vars['infonce_acc'] == losses['infonce_acc']
    assert log_vars['loss_infonce'] == losses['loss_infonce']
    total.backward()
    assert anchor.grad is not None and positive.grad is not None


@pytest.mark.parametrize('loss_name', ['loss', 'infonce', 'contrastive_term'])
def test_loss_names_that_mmengine_would_mishandle_are_refused(loss_name):
    with pytest.raises(ValueError, match="loss_name must contain 'loss'"):
        InfoNCEHead(loss_name=loss_name)


def test_non_positive_temperature_is_refused():
    with pytest.raises(ValueError, match='temperature must be positive'):
        InfoNCEHead(temperature=-0.1)
