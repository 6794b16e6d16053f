"""Loss functions of clad_mm (pure functions, no state)."""

from .cluster_fix_weights import (
    batch_mean_one,
    cluster_losses,
    cluster_weights,
    moving_average_weights,
)
from .group_dro import exponentiated_group_weights, group_mean_losses
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
    'exponentiated_group_weights',
    'group_mean_losses',
    'contrastive_accuracy',
    'info_nce_logits',
    'info_nce_loss',
    'info_nce_loss_from_logits',
]
