"""InfoNCE head of CLAD.

`CLAD: A Contrastive Learning based Approach for Background Debiasing
<https://arxiv.org/abs/2210.02748>`_ (Wang et al., BMVC 2022) adds
``λ·InfoNCE(x, x⁺, x⁻)`` to the classification loss: cosine similarity,
temperature τ, one positive per anchor and the negatives of the anchor's class
queue. The maths lives in :mod:`clad_mm.models.losses.info_nce`; this head
turns it into an MMEngine loss dict.

Config keys (``type='InfoNCEHead'``): ``temperature``, ``loss_weight`` (λ),
``loss_name``.
"""

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from clad_mm.utils.errors import UserError

from ..losses.info_nce import (
    contrastive_accuracy,
    info_nce_logits,
    info_nce_loss_from_logits,
)


@MODELS.register_module()
class InfoNCEHead(BaseModule):
    """Weighted InfoNCE loss plus the contrastive accuracy, as a loss dict.

    MMEngine's ``parse_losses`` sums every entry whose key contains
    ``'loss'``: the loss key must contain it (or the term would be logged but
    never trained) and must differ from the classification head's ``'loss'``;
    the accuracy key ``'infonce_acc'`` does not contain it, so the accuracy is
    only logged.

    Args:
        temperature (float): τ > 0. Defaults to 0.2 (CLAD).
        loss_weight (float): λ, the weight of the term. Defaults to 1.0.
        loss_name (str): Key of the weighted loss in the returned dict.
            Defaults to ``'loss_infonce'``.
        init_cfg (dict, optional): Initialisation config of
            :class:`~mmengine.model.BaseModule`. Defaults to None.
    """

    def __init__(
        self,
        temperature: float = 0.2,
        loss_weight: float = 1.0,
        loss_name: str = 'loss_infonce',
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise UserError(f'temperature must be positive, got {temperature}')
        if 'loss' not in loss_name or loss_name == 'loss':
            raise UserError(
                f"loss_name must contain 'loss' (MMEngine only sums such keys) "
                f"and differ from the classification loss key 'loss', got "
                f'{loss_name!r}'
            )
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def loss(
        self,
        anchor: torch.Tensor,
        positive: torch.Tensor,
        negatives: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Weighted InfoNCE of a batch and the share of anchors it ranks right.

        Args:
            anchor (torch.Tensor): Anchor features, ``[B, D]``.
            positive (torch.Tensor): Positive features, ``[B, D]``.
            negatives (torch.Tensor): Detached negatives, ``[B, N, D]``.
            valid_mask (torch.Tensor, optional): ``[B, N]`` bool, False for
                queue slots not yet written. Defaults to None.

        Returns:
            dict[str, torch.Tensor]: ``{loss_name: λ·InfoNCE, 'infonce_acc':
            percentage of anchors whose positive beats every negative}``; the
            accuracy is detached.
        """
        logits = info_nce_logits(
            anchor, positive, negatives, self.temperature, valid_mask
        )
        return {
            self.loss_name: self.loss_weight * info_nce_loss_from_logits(logits),
            'infonce_acc': contrastive_accuracy(logits),
        }
