"""Loss functions of clad_mm (pure functions, no state)."""

from .cluster_fix_weights import (
    batch_mean_one,
    cluster_losses,
    cluster_weights,
    moving_average_weights,
)
from .info_nce import (
    contrastive_accuracy,
    info_nce_logits,
    info_nce_loss,
    info_nce_loss_from_logits,
)

__all__ = [
    'batch_mean_one',
    'cluster_losses',
    'cluster_weights',
    'moving_average_weights',
    'contrastive_accuracy',
    'info_nce_logits',
    'info_nce_loss',
    'info_nce_loss_from_logits',
]
