"""Plots of clad_mm results.

Drawing only: the numbers come from :mod:`clad_mm.analysis` and the metrics.
Matplotlib is imported inside the plotting functions, never when this
package is imported, and draws on its non-interactive Agg canvas without
switching the session's backend.
"""

from .mixed_scatter_plot import plot_mixed_same_vs_rand
from .saliency import GridCell, plot_saliency_grid
from .shape_bias_plot import plot_shape_bias
from .split_accuracy_plot import plot_split_accuracies
from .split_preview import plot_split_preview, split_preview_cells

__all__ = [
    'GridCell',
    'plot_mixed_same_vs_rand',
    'plot_saliency_grid',
    'plot_shape_bias',
    'plot_split_accuracies',
    'plot_split_preview',
    'split_preview_cells',
]
