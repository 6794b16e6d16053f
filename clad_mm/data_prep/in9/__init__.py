"""ImageNet-9 rebuilt from ImageNet, and the IN-9-Sketch test split.

- :mod:`.build`: :func:`~.build.prepare_in9`, the resumable two-pass build.
- :mod:`.candidates`: the ImageNet inputs (synset order, IN-9 labels,
  candidate images and their bounding-box XMLs).
- :mod:`.selection`: the keep/reject rules (boxes, crop, GrabCut mask) and
  the validation/training draw.
- :mod:`.donors`: the background donors of the mixed views.
- :mod:`.writing`: the views of a kept image and where they go.
- :mod:`.resume_state`: state file, scan log and settings check of a resumed
  build.
- :mod:`.report`: the summary report.
- :mod:`.parallel`: the process pool of the passes.
- :mod:`.sketch`: ImageNet-Sketch restricted to IN-9 (S-CLAD's IN9-SKETCH).
"""
