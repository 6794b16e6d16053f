"""Imports point one way: the runtime datasets never import the offline
data preparation or the evaluation package, and the data preparation never
imports the evaluation (read from the source, so that a lazy import inside a
function counts too)."""

import ast
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FORBIDDEN = ('clad_mm.data_prep', 'clad_mm.evaluation')


def imported_modules(source: str, module: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` of ``source`` names.

    Relative imports are resolved against ``module`` (the dotted name of the
    file); ``from package import name`` yields ``package.name`` too, since
    ``name`` may be a submodule.
    """
    package = module.rsplit('.', 1)[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package.rsplit('.', node.level - 1)[0]
                base = f'{parent}.{base}' if base else parent
            names.add(base)
            names.update(f'{base}.{alias.name}' for alias in node.names)
    return names


def forbidden_imports(
    source: str, module: str, forbidden: tuple = FORBIDDEN
) -> list[str]:
    return sorted(
        name
        for name in imported_modules(source, module)
        if any(name == bad or name.startswith(bad + '.') for bad in forbidden)
    )


def package_modules(package: str):
    """``(path, dotted name)`` of every source file of a clad_mm package."""
    for folder, _, files in os.walk(osp.join(REPO_ROOT, 'clad_mm', package)):
        for name in sorted(files):
            if name.endswith('.py'):
                path = osp.join(folder, name)
                relative = osp.relpath(path, REPO_ROOT)[: -len('.py')]
                yield path, relative.replace(os.sep, '.')


@pytest.mark.parametrize(
    'line',
    [
        'import clad_mm.evaluation',
        'from clad_mm.evaluation.imagenet_to_in9 import in9_predictions',
        'from clad_mm import data_prep',
        'from ...data_prep.in9 import build',
        'from ... import evaluation',
        'def f():\n    from ...evaluation import metrics',
    ],
)
def test_the_scan_finds_every_form_of_import(line):
    module = 'clad_mm.datasets.transforms.example'
    assert forbidden_imports(line, module), line


@pytest.mark.parametrize(
    'line',
    [
        'from clad_mm.datasets.categories import IN9_CLASSES',
        'from .folder_layout import list_stems',
        'from clad_mm.utils.fileio import read_image',
        'import clad_mm.evaluation_tools',
    ],
)
def test_the_scan_allows_runtime_imports(line):
    assert not forbidden_imports(line, 'clad_mm.datasets.transforms.example')


def offending_modules(package: str, forbidden: tuple) -> dict:
    modules = list(package_modules(package))
    assert len(modules) > 3, f'clad_mm/{package} not found'
    offending = {}
    for path, module in modules:
        with open(path, encoding='utf-8') as file:
            found = forbidden_imports(file.read(), module, forbidden)
        if found:
            offending[module] = found
    return offending


def test_datasets_import_neither_data_prep_nor_evaluation():
    assert not offending_modules('datasets', FORBIDDEN)


def test_data_prep_does_not_import_evaluation():
    assert not offending_modules('data_prep', ('clad_mm.evaluation',))
