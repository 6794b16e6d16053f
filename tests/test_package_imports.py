"""``import clad_mm`` loads only the runtime, and the runtime imports point one way.

The runtime (``datasets``, ``models``, ``engine``, ``evaluation``) is what
``custom_imports=['clad_mm']`` loads in every training and test process; the
analysis drivers, plots, inference helpers and data-preparation builders are
imported only by the tools and notebooks that use them.
"""

import ast
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RUNTIME_PACKAGES = ('datasets', 'models', 'engine', 'evaluation')
#: Packages the runtime must not import.
NON_RUNTIME_PACKAGES = (
    'clad_mm.analysis',
    'clad_mm.visualization',
    'clad_mm.apis',
    'clad_mm.data_prep',
)


def modules_after(code):
    """Runs ``code`` in a fresh interpreter; returns its loaded module names."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, *filter(None, [env.get('PYTHONPATH')])]
    )
    completed = subprocess.run(
        [
            sys.executable,
            '-c',
            code + '\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))',
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def is_within(module, package):
    return module == package or module.startswith(package + '.')


def test_import_clad_mm_does_not_load_matplotlib():
    assert 'matplotlib' not in modules_after('import clad_mm')


def test_import_clad_mm_loads_only_the_runtime():
    loaded = [m for m in modules_after('import clad_mm') if is_within(m, 'clad_mm')]
    allowed = [
        f'clad_mm.{package}'
        for package in (*RUNTIME_PACKAGES, 'compat', 'version', 'utils')
    ]
    assert 'clad_mm.evaluation.metrics.bg_challenge_metric' in loaded
    outside = [
        m
        for m in loaded
        if m != 'clad_mm' and not any(is_within(m, package) for package in allowed)
    ]
    # The offline builders (clad_mm.data_prep) are outside, like the analysis.
    assert outside == []
    # Of evaluation, only the metrics and what they need.
    assert [
        m
        for m in loaded
        if is_within(m, 'clad_mm.evaluation')
        and not is_within(m, 'clad_mm.evaluation.metrics')
        and m not in ('clad_mm.evaluation', 'clad_mm.evaluation.imagenet_to_in9')
    ] == []


def imported_modules(source, module_name, is_package=False):
    """Absolute names of every module a source file imports.

    Args:
        source (str): The file's source.
        module_name (str): Its dotted name, to resolve relative imports.
        is_package (bool): Whether it is a package's ``__init__.py``.

    Returns:
        list[str]: ``import a.b`` gives ``a.b``; ``from a import b`` gives
        ``a.b`` (``b`` may be a module), relative imports resolved.
    """
    package = module_name if is_package else module_name.rpartition('.')[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parent = '.'.join(parts[: len(parts) - node.level + 1])
                base = f'{parent}.{base}' if base else parent
            names += [f'{base}.{alias.name}' for alias in node.names]
    return names


def forbidden_imports(source, module_name, is_package=False):
    return [
        name
        for name in imported_modules(source, module_name, is_package)
        if any(is_within(name, package) for package in NON_RUNTIME_PACKAGES)
    ]


def runtime_sources():
    for package in RUNTIME_PACKAGES:
        root = osp.join(REPO_ROOT, 'clad_mm', package)
        for folder, _, files in os.walk(root):
            for file_name in sorted(files):
                if file_name.endswith('.py'):
                    path = osp.join(folder, file_name)
                    relative = osp.relpath(path, REPO_ROOT)[: -len('.py')]
                    parts = relative.split(os.sep)
                    is_package = parts[-1] == '__init__'
                    if is_package:
                        parts = parts[:-1]
                    yield path, '.'.join(parts), is_package


def test_runtime_does_not_import_analysis_plots_apis_or_data_prep():
    offending = {}
    for path, module_name, is_package in runtime_sources():
        with open(path) as file:
            found = forbidden_imports(file.read(), module_name, is_package)
        if found:
            offending[osp.relpath(path, REPO_ROOT)] = found
    assert offending == {}


@pytest.mark.parametrize(
    'source, module_name, is_package',
    [
        (
            'from clad_mm.analysis.consistency import pair_splits',
            'clad_mm.models.x',
            False,
        ),
        ('import clad_mm.visualization.saliency', 'clad_mm.engine.hooks.x', False),
        ('from clad_mm import apis', 'clad_mm.datasets.x', False),
        (
            'from ...data_prep.synthetic import synbg',
            'clad_mm.datasets.transforms.x',
            False,
        ),
        ('from ..analysis import smooth_grad', 'clad_mm.evaluation', True),
        (
            'def f():\n    from clad_mm.apis import load_classifier\n',
            'clad_mm.models.x',
            False,
        ),
    ],
)
def test_the_scan_finds_a_planted_import(source, module_name, is_package):
    assert forbidden_imports(source, module_name, is_package) != []


def test_the_scan_lets_runtime_imports_pass():
    source = (
        'from clad_mm.datasets.folder_layout import list_stems\n'
        'from ..metrics import BGChallengeMetric\n'
        'import clad_mm.utils.fileio\n'
        'from . import imagenet_to_in9\n'
    )
    assert forbidden_imports(source, 'clad_mm.evaluation.metrics.x') == []
