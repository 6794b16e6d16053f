"""Plots of clad_mm results."""
