"""Foreground masks: the GrabCut recipe of the Background Challenge.

:mod:`.foreground_masks` holds the pure image operations (GrabCut from a box,
ONLY-BG-T tiling, ONLY-FG, Pascal-VOC boxes, mask metrics);
:mod:`.mask_folder` applies them to a whole image folder, resumably, and
scores mask folders against ground truth.
"""
