"""Every repository path the README names exists (configs, tools, package
modules, tests, images), so a newcomer's copy-paste finds its file."""

import glob
import itertools
import os.path as osp
import re

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Top-level folders of the repository that a README path can start with
#: (data/, work_dirs/ and checkpoints/ are made by the commands).
TRACKED_ROOTS = ('configs', 'tools', 'clad_mm', 'docs', 'tests', '.ci')
#: A path, and what follows it: a path cut short by ``<name>``, ``$NAME`` or
#: ``[optional]`` is a placeholder, not checked.
PATH_PATTERN = re.compile(
    r'(?<![\w./$-])((?:' + '|'.join(re.escape(r) for r in TRACKED_ROOTS) + r')/'
    r'[\w./{},*-]*)([<$\[]?)'
)


def expand_braces(path: str) -> list[str]:
    """``a/{b,c}_{d,e}.py`` -> the four paths, as the shell expands them."""
    parts = re.split(r'\{([^{}]*)\}', path)
    choices = [
        [part] if i % 2 == 0 else part.split(',') for i, part in enumerate(parts)
    ]
    return [''.join(combination) for combination in itertools.product(*choices)]


def readme_paths() -> set[str]:
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    return {
        path.rstrip('.,')
        for path, placeholder in PATH_PATTERN.findall(text)
        if not placeholder
    }


def test_brace_expansion_is_the_shells():
    assert expand_braces('c/r{18,50}_w_{erm,dro}.py') == [
        'c/r18_w_erm.py',
        'c/r18_w_dro.py',
        'c/r50_w_erm.py',
        'c/r50_w_dro.py',
    ]


def test_readme_names_many_repository_paths():
    paths = readme_paths()
    assert (
        'tools/train.py' in paths and 'configs/clad/resnet18_synbg_baseline.py' in paths
    )
    assert len(paths) > 50


def test_every_path_the_readme_names_exists():
    missing = [
        expanded
        for path in sorted(readme_paths())
        for expanded in expand_braces(path)
        if not glob.glob(osp.join(REPO_ROOT, expanded))
    ]
    assert not missing, missing
