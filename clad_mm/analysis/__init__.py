"""Analysis drivers of clad_mm: experiments run on trained classifiers.

Not imported by ``import clad_mm`` (which loads only the registered runtime
components): import the module you need, e.g.
``from clad_mm.analysis.adversarial_backgrounds import run_adversarial_backgrounds``.
Analysis modules may import the runtime packages (``datasets``, ``models``,
``evaluation``, ``utils``) and ``clad_mm.apis``; the runtime never imports
them.
"""
