"""Plots of clad_mm results.

Drawing only: the numbers come from :mod:`clad_mm.analysis` and the metrics.
Each ``draw_*`` function returns a matplotlib figure (turned into an RGB
array by :func:`figure_to_rgb`, e.g. for MMEngine's visualizer), and each
``plot_*`` function saves one as a file. Matplotlib is imported inside the
drawing functions, never when this package is imported, and draws on its
non-interactive Agg canvas without switching the session's backend.
Importing this package also registers :class:`ResultPlotsHook`, which sends
the plots of a run's metrics to its visualizer backends.
"""

from .agg_figure import figure_to_rgb
from .group_accuracy_plot import draw_group_accuracies, plot_group_accuracies
from .mixed_scatter_plot import draw_mixed_same_vs_rand, plot_mixed_same_vs_rand
from .result_plots_hook import ResultPlotsHook, add_result_plots_hook, result_figures
from .retrieval_plot import draw_retrieval_metrics, plot_retrieval_metrics
from .saliency import GridCell, draw_saliency_grid, plot_saliency_grid
from .shape_bias_plot import draw_results_shape_bias, draw_shape_bias, plot_shape_bias
from .split_accuracy_plot import draw_split_accuracies, plot_split_accuracies
from .split_preview import draw_split_preview, plot_split_preview, split_preview_cells

__all__ = [
    'GridCell',
    'ResultPlotsHook',
    'add_result_plots_hook',
    'draw_group_accuracies',
    'draw_mixed_same_vs_rand',
    'draw_results_shape_bias',
    'draw_retrieval_metrics',
    'draw_saliency_grid',
    'draw_shape_bias',
    'draw_split_accuracies',
    'draw_split_preview',
    'figure_to_rgb',
    'plot_group_accuracies',
    'plot_mixed_same_vs_rand',
    'plot_retrieval_metrics',
    'plot_saliency_grid',
    'plot_shape_bias',
    'plot_split_accuracies',
    'plot_split_preview',
    'result_figures',
    'split_preview_cells',
]
