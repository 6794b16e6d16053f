"""Offline data preparation: builders and generators of clad_mm's data sets.

Nothing here is imported by ``import clad_mm`` (configs do not need it):
the tools in ``tools/data/`` call it to write the folders that the
registered datasets of :mod:`clad_mm.datasets` read. It imports the runtime
packages it writes for (datasets, models, utils), never the evaluation;
they never import it.

- :mod:`~clad_mm.data_prep.in9`: ImageNet-9 rebuilt from ImageNet and its
  bounding boxes, and the IN-9-Sketch test split.
- :mod:`~clad_mm.data_prep.synthetic`: the synthetic SynBG sets (background
  and texture variants) and the skeleton their generators share.
- :mod:`~clad_mm.data_prep.masks`: foreground masks of image folders
  (GrabCut, rembg) and their quality against ground truth.
- :mod:`~clad_mm.data_prep.texture`: AdaIN-stylized copies of a split
  (Stylized IN-9).
"""
