"""Plots of clad_mm results."""

from .mixed_scatter_plot import plot_mixed_same_vs_rand
from .saliency import (
    SALIENCY_REDUCTIONS,
    SALIENCY_TARGETS,
    GridCell,
    class_names,
    classifier_logits,
    explain_images,
    label_from_class_folder,
    plot_saliency_grid,
    saliency_map,
    smooth_grad,
)
from .shape_bias_plot import plot_shape_bias
from .split_accuracy_plot import plot_split_accuracies
from .split_preview import plot_split_preview, split_preview_cells

__all__ = [
    'SALIENCY_REDUCTIONS',
    'SALIENCY_TARGETS',
    'GridCell',
    'class_names',
    'classifier_logits',
    'explain_images',
    'label_from_class_folder',
    'plot_mixed_same_vs_rand',
    'plot_saliency_grid',
    'plot_shape_bias',
    'plot_split_accuracies',
    'plot_split_preview',
    'saliency_map',
    'smooth_grad',
    'split_preview_cells',
]
