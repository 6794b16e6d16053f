"""Plots of clad_mm results."""

from .split_accuracy_plot import plot_split_accuracies

__all__ = ['plot_split_accuracies']
