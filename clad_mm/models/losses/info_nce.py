"""InfoNCE of CLAD as pure functions.

`CLAD: A Contrastive Learning based Approach for Background Debiasing
<https://arxiv.org/abs/2210.02748>`_ (Wang et al., BMVC 2022) pulls an anchor
towards its positive (the anchor's foreground on another class's background)
and pushes it away from the negatives of its class's queue (class-y
backgrounds with other classes' foregrounds). For anchor ``k``::

    loss_k = -log( e^{s+/τ} / (e^{s+/τ} + Σ_j e^{s_j/τ}) )

with ``s`` the cosine similarity; the batch loss is the mean over anchors.

The functions hold no state and detach nothing: CLAD's negatives come from a
memory of detached features, and a caller that passes negatives with a
gradient gets gradients into them.
"""

import torch
import torch.nn.functional as F


def _check_shapes(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    valid_mask: torch.Tensor | None,
) -> None:
    if anchor.dim() != 2:
        raise ValueError(f'anchor must be [B, D], got shape {tuple(anchor.shape)}')
    if positive.shape != anchor.shape:
        raise ValueError(
            f'positive must have the anchor shape {tuple(anchor.shape)}, '
            f'got {tuple(positive.shape)}'
        )
    batch_size, feat_dim = anchor.shape
    if (
        negatives.dim() != 3
        or negatives.size(0) != batch_size
        or negatives.size(2) != feat_dim
    ):
        raise ValueError(
            f'negatives must be [B, N, D] = [{batch_size}, N, {feat_dim}], '
            f'got shape {tuple(negatives.shape)}'
        )
    if valid_mask is None:
        return
    if valid_mask.dtype != torch.bool or valid_mask.shape != negatives.shape[:2]:
        raise ValueError(
            f'valid_mask must be a bool tensor of shape [B, N] = '
            f'{tuple(negatives.shape[:2])}, got {valid_mask.dtype} of shape '
            f'{tuple(valid_mask.shape)}'
        )


def info_nce_logits(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float = 0.2,
    valid_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cosine similarities of every anchor to its positive and negatives, over τ.

    The features are L2-normalised here, so their norms do not matter.

    Args:
        anchor (torch.Tensor): Anchor features, ``[B, D]``.
        positive (torch.Tensor): One positive per anchor, ``[B, D]``.
        negatives (torch.Tensor): Negatives per anchor, ``[B, N, D]``; ``N``
            may be 0. Cast to the anchor's dtype (a float32 memory can serve
            half-precision features).
        temperature (float): τ > 0. Defaults to 0.2 (CLAD's value).
        valid_mask (torch.Tensor, optional): ``[B, N]`` bool, False for
            negatives to leave out (slots of a queue not yet written).
            Defaults to None: every negative counts.

    Returns:
        torch.Tensor: ``[B, 1 + N]`` logits; column 0 is the positive, left-out
        negatives are ``-inf`` so that they carry no weight in a softmax.
    """
    _check_shapes(anchor, positive, negatives, valid_mask)
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}')
    anchor = F.normalize(anchor, dim=1)
    positive = F.normalize(positive, dim=1)
    negatives = F.normalize(negatives.to(anchor.dtype), dim=2)
    positive_similarity = (anchor * positive).sum(dim=1, keepdim=True)
    negative_similarities = torch.einsum('bd,bnd->bn', anchor, negatives)
    if valid_mask is not None:
        negative_similarities = negative_similarities.masked_fill(
            ~valid_mask, float('-inf')
        )
    return torch.cat([positive_similarity, negative_similarities], dim=1) / temperature


def info_nce_loss_from_logits(
    logits: torch.Tensor, reduction: str = 'mean'
) -> torch.Tensor:
    """InfoNCE from the logits of :func:`info_nce_logits`.

    Cross-entropy with target column 0 is exactly ``-log(softmax(logits)[0])``
    and evaluates it through logsumexp, which neither overflows at small τ nor
    turns ``-inf`` logits into NaN. An anchor without any (valid) negative has
    loss ``-log(1) = 0`` and no gradient: the formula's value, not a special
    case, and it keeps training running while a queue is still empty.

    Args:
        logits (torch.Tensor): ``[B, 1 + N]``, positive in column 0.
        reduction (str): ``'mean'`` (CLAD: mean over anchors), ``'sum'`` or
            ``'none'`` (one loss per anchor). Defaults to ``'mean'``.

    Returns:
        torch.Tensor: The loss, a scalar or ``[B]`` for ``'none'``.
    """
    positive_column = logits.new_zeros(logits.size(0), dtype=torch.long)
    return F.cross_entropy(logits, positive_column, reduction=reduction)


def info_nce_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float = 0.2,
    valid_mask: torch.Tensor | None = None,
    reduction: str = 'mean',
) -> torch.Tensor:
    """CLAD's InfoNCE: cosine similarity, temperature τ, mean over anchors.

    Gradients flow through ``anchor`` and ``positive``, and through
    ``negatives`` too unless the caller detaches them (CLAD's negatives come
    from a memory of detached features).

    Args:
        anchor (torch.Tensor): Anchor features, ``[B, D]``.
        positive (torch.Tensor): One positive per anchor, ``[B, D]``.
        negatives (torch.Tensor): Negatives per anchor, ``[B, N, D]``. With
            ``N = 0`` (or every negative masked out) an anchor's loss is 0.
        temperature (float): τ > 0. Defaults to 0.2.
        valid_mask (torch.Tensor, optional): ``[B, N]`` bool, False for
            negatives to leave out. Defaults to None.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to
            ``'mean'``.

    Returns:
        torch.Tensor: The loss, a scalar or ``[B]`` for ``'none'``.
    """
    logits = info_nce_logits(anchor, positive, negatives, temperature, valid_mask)
    return info_nce_loss_from_logits(logits, reduction)


def contrastive_accuracy(logits: torch.Tensor) -> torch.Tensor:
    """Percentage of anchors whose positive beats every negative.

    A tie counts as a miss. An anchor without valid negatives counts as a hit,
    in line with its loss of 0.

    Args:
        logits (torch.Tensor): ``[B, 1 + N]`` from :func:`info_nce_logits`.

    Returns:
        torch.Tensor: Detached scalar in ``[0, 100]``, in percent like
        MMPretrain's ``Accuracy``.
    """
    logits = logits.detach()
    if logits.size(1) == 1:
        return logits.new_tensor(100.0)
    hardest_negative = logits[:, 1:].amax(dim=1)
    return (logits[:, 0] > hardest_negative).float().mean() * 100
