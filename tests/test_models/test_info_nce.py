"""Tests of CLAD's InfoNCE functions (clad_mm/models/losses/info_nce.py)."""

import math

import pytest
import torch

from clad_mm.models.losses.info_nce import (
    contrastive_accuracy,
    info_nce_logits,
    info_nce_loss,
    info_nce_loss_from_logits,
)


def planar(angle_degrees: float, norm: float = 1.0) -> list[float]:
    """A 2-D vector at a given angle, so cosines are known in closed form."""
    angle = math.radians(angle_degrees)
    return [norm * math.cos(angle), norm * math.sin(angle)]


def closed_form_loss(
    positive_cosine: float, negative_cosines: list[float], temperature: float
) -> float:
    """-log(e^{s+/τ} / (e^{s+/τ} + Σ_j e^{s_j/τ})), written out with math."""
    positive_term = math.exp(positive_cosine / temperature)
    negative_terms = sum(math.exp(cosine / temperature) for cosine in negative_cosines)
    return -math.log(positive_term / (positive_term + negative_terms))


# Two anchors; angles relative to the anchor give the cosines directly, and
# the norms differ on purpose (the loss must ignore them).
ANCHOR_ANGLES = (0.0, 45.0)
POSITIVE_OFFSETS = (60.0, 30.0)
NEGATIVE_OFFSETS = ((90.0, 180.0, 30.0), (120.0, 45.0, 0.0))


def example_batch(dtype=torch.float64):
    anchor = torch.tensor(
        [planar(angle, norm) for angle, norm in zip(ANCHOR_ANGLES, (3.0, 0.2))],
        dtype=dtype,
    )
    positive = torch.tensor(
        [
            planar(angle + offset, norm)
            for angle, offset, norm in zip(ANCHOR_ANGLES, POSITIVE_OFFSETS, (0.5, 7.0))
        ],
        dtype=dtype,
    )
    negatives = torch.tensor(
        [
            [planar(angle + offset, 1.0 + j) for j, offset in enumerate(offsets)]
            for angle, offsets in zip(ANCHOR_ANGLES, NEGATIVE_OFFSETS)
        ],
        dtype=dtype,
    )
    return anchor, positive, negatives


def expected_losses(temperature: float) -> list[float]:
    return [
        closed_form_loss(
            math.cos(math.radians(positive_offset)),
            [math.cos(math.radians(offset)) for offset in negative_offsets],
            temperature,
        )
        for positive_offset, negative_offsets in zip(POSITIVE_OFFSETS, NEGATIVE_OFFSETS)
    ]


@pytest.mark.parametrize('temperature', [0.2, 0.5, 1.0])
def test_loss_equals_hand_computation(temperature):
    per_anchor = expected_losses(temperature)
    anchor, positive, negatives = example_batch()

    loss = info_nce_loss(anchor, positive, negatives, temperature)
    per_anchor_loss = info_nce_loss(
        anchor, positive, negatives, temperature, reduction='none'
    )
    summed_loss = info_nce_loss(
        anchor, positive, negatives, temperature, reduction='sum'
    )

    assert loss.item() == pytest.approx(sum(per_anchor) / 2, rel=1e-9)
    assert per_anchor_loss.tolist() == pytest.approx(per_anchor, rel=1e-9)
    assert summed_loss.item() == pytest.approx(sum(per_anchor), rel=1e-9)


def test_default_temperature_is_clads():
    anchor, positive, negatives = example_batch()
    assert info_nce_loss(anchor, positive, negatives).item() == pytest.approx(
        sum(expected_losses(0.2)) / 2, rel=1e-9
    )


def test_logits_are_cosines_over_temperature():
    anchor, positive, negatives = example_batch()
    logits = info_nce_logits(anchor, positive, negatives, temperature=0.25)
    expected_first_row = [
        math.cos(math.radians(offset)) / 0.25
        for offset in (POSITIVE_OFFSETS[0], *NEGATIVE_OFFSETS[0])
    ]
    assert logits.shape == (2, 4)
    assert logits[0].tolist() == pytest.approx(expected_first_row, rel=1e-9)
    assert torch.allclose(
        info_nce_logits(anchor, positive, negatives, temperature=1.0) / 0.25, logits
    )


def test_lower_temperature_sharpens_a_correctly_ranked_anchor():
    # The positive (cos 0.9) beats both negatives (cos 0.5, 0): the loss must
    # fall towards 0 as τ falls.
    anchor = torch.tensor([planar(0.0)])
    positive = torch.tensor([planar(math.degrees(math.acos(0.9)))])
    negatives = torch.tensor([[planar(60.0), planar(90.0)]])
    losses = [
        info_nce_loss(anchor, positive, negatives, temperature).item()
        for temperature in (1.0, 0.5, 0.2, 0.05)
    ]
    assert losses == sorted(losses, reverse=True)
    assert losses[-1] < 1e-3


def test_norms_of_the_vectors_do_not_matter():
    anchor, positive, negatives = example_batch()
    reference = info_nce_loss(anchor, positive, negatives, reduction='none')
    rescaled = info_nce_loss(
        anchor * torch.tensor([[5.0], [0.01]], dtype=anchor.dtype),
        positive * 123.0,
        negatives * torch.tensor([[[0.3], [40.0], [2.0]]], dtype=anchor.dtype),
        reduction='none',
    )
    assert torch.allclose(reference, rescaled)


def test_small_temperature_stays_finite():
    # e^{s/τ} with s = 1, τ = 1e-3 overflows float32: the logsumexp form must not.
    anchor, positive, negatives = example_batch(torch.float32)
    loss = info_nce_loss(anchor, positive, negatives, temperature=1e-3)
    assert torch.isfinite(loss)
    # Each anchor has a negative closer than its positive (offset 30° against
    # 60°, offset 0° against 30°): a loss ≈ (s_hardest - s+) / τ per anchor.
    cos30, cos60 = math.cos(math.radians(30.0)), math.cos(math.radians(60.0))
    expected = ((cos30 - cos60) + (1.0 - cos30)) / 1e-3 / 2
    assert loss.item() == pytest.approx(expected, rel=1e-3)


def test_gradients_reach_anchor_and_positive_and_undetached_negatives():
    anchor, positive, negatives = (t.requires_grad_() for t in example_batch())
    info_nce_loss(anchor, positive, negatives).backward()
    for tensor in (anchor, positive, negatives):
        assert tensor.grad is not None
        assert tensor.grad.abs().sum() > 0


def test_detached_negatives_get_no_gradient():
    anchor, positive, negatives = example_batch()
    anchor.requires_grad_()
    memory = negatives.clone().requires_grad_()
    info_nce_loss(anchor, positive, memory.detach()).backward()
    assert anchor.grad is not None
    assert memory.grad is None


def test_no_negatives_gives_zero_loss_and_zero_gradient():
    anchor, positive, _ = example_batch()
    anchor.requires_grad_()
    no_negatives = torch.empty(2, 0, 2, dtype=anchor.dtype)
    loss = info_nce_loss(anchor, positive, no_negatives)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.count_nonzero(anchor.grad) == 0
    logits = info_nce_logits(anchor, positive, no_negatives)
    assert contrastive_accuracy(logits).item() == 100.0


def test_masked_negatives_count_as_absent():
    anchor, positive, negatives = example_batch()
    anchor.requires_grad_()
    valid_mask = torch.tensor([[True, False, True], [False, False, False]])
    per_anchor = info_nce_loss(
        anchor, positive, negatives, valid_mask=valid_mask, reduction='none'
    )
    per_anchor.sum().backward()

    kept_cosines = [math.cos(math.radians(NEGATIVE_OFFSETS[0][j])) for j in (0, 2)]
    positive_cosine = math.cos(math.radians(POSITIVE_OFFSETS[0]))
    assert per_anchor[0].item() == pytest.approx(
        closed_form_loss(positive_cosine, kept_cosines, 0.2), rel=1e-9
    )
    assert per_anchor[1].item() == 0.0
    assert torch.isfinite(anchor.grad).all()


def test_accuracy_counts_anchors_whose_positive_beats_every_negative():
    logits = torch.tensor(
        [
            [2.0, 1.0, 1.5],  # hit
            [1.0, 1.0, 0.0],  # tie with a negative: miss
            [0.0, 0.5, -1.0],  # miss
            [3.0, float('-inf'), float('-inf')],  # nothing valid to beat: hit
        ],
        requires_grad=True,
    )
    accuracy = contrastive_accuracy(logits)
    assert accuracy.item() == pytest.approx(50.0)
    assert not accuracy.requires_grad


def test_loss_from_logits_matches_log_softmax_definition():
    logits = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 0.0]], dtype=torch.float64)
    expected = [
        -math.log(math.exp(row[0]) / sum(math.exp(value) for value in row))
        for row in logits.tolist()
    ]
    assert info_nce_loss_from_logits(logits, 'none').tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    'anchor_shape, positive_shape, negatives_shape, message',
    [
        ((4,), (4,), (4, 3, 4), r'anchor must be \[B, D\]'),
        ((2, 4), (2, 5), (2, 3, 4), 'positive must have the anchor shape'),
        ((2, 4), (2, 4), (2, 4), r'negatives must be \[B, N, D\] = \[2, N, 4\]'),
        ((2, 4), (2, 4), (3, 5, 4), r'negatives must be \[B, N, D\]'),
        ((2, 4), (2, 4), (2, 5, 8), r'got shape \(2, 5, 8\)'),
    ],
)
def test_shape_errors_name_the_expected_shape(
    anchor_shape, positive_shape, negatives_shape, message
):
    with pytest.raises(ValueError, match=message):
        info_nce_loss(
            torch.ones(anchor_shape),
            torch.ones(positive_shape),
            torch.ones(negatives_shape),
        )


def test_invalid_mask_and_temperature_are_refused():
    anchor, positive, negatives = example_batch()
    with pytest.raises(ValueError, match='valid_mask must be a bool tensor'):
        info_nce_loss(anchor, positive, negatives, valid_mask=torch.ones(2, 3))
    with pytest.raises(ValueError, match='valid_mask must be a bool tensor'):
        info_nce_loss(
            anchor, positive, negatives, valid_mask=torch.ones(2, 2, dtype=torch.bool)
        )
    with pytest.raises(ValueError, match='temperature must be positive'):
        info_nce_loss(anchor, positive, negatives, temperature=0.0)


def test_float32_memory_serves_half_precision_features():
    anchor, positive, negatives = example_batch(torch.float32)
    loss = info_nce_loss(anchor.bfloat16(), positive.bfloat16(), negatives)
    assert loss.dtype == torch.bfloat16
    assert loss.item() == pytest.approx(sum(expected_losses(0.2)) / 2, rel=2e-2)
