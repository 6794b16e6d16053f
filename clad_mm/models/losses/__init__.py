"""Loss functions of clad_mm (pure functions, no state)."""

from .info_nce import (
    contrastive_accuracy,
    info_nce_logits,
    info_nce_loss,
    info_nce_loss_from_logits,
)

__all__ = [
    'contrastive_accuracy',
    'info_nce_logits',
    'info_nce_loss',
    'info_nce_loss_from_logits',
]
