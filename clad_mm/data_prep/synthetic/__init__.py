"""Synthetic data sets with the Background Challenge's layout.

:mod:`.synbg` draws shapes on label-correlated backgrounds (background
bias), :mod:`.synbg_texture` fills shapes with label-correlated textures
(texture bias); :mod:`.generated_set` is the output-folder handling both
share (layout, resume or refuse, manifest and meta file).
"""
