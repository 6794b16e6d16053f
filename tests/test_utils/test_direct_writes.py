"""Every result file of clad_mm and its tools is written atomically.

The sources of ``clad_mm/`` and ``tools/`` are scanned (AST) for calls that
write a file directly instead of through :mod:`clad_mm.utils.fileio`
(``write_atomically``, ``write_json_atomically``, ``write_image_atomically``),
so that new code keeps the rule: a run killed mid-write must never leave a
half-written JSON, image, plot or table. Writing into an in-memory buffer
(``io.BytesIO`` / ``io.StringIO``) is fine. A write that is meant to be
direct (an append-only journal whose reader drops a torn last line) carries
a ``# direct-write: <reason>`` comment on its line or the two lines above.
"""

import ast
import os
import os.path as osp
import textwrap

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCANNED_FOLDERS = ('clad_mm', 'tools')
FILEIO = osp.join('clad_mm', 'utils', 'fileio.py')
PRAGMA = '# direct-write:'
PRAGMA_LINES_ABOVE = 2

# Calls that write their destination argument: (module or '', attribute) ->
# index of the destination among the positional arguments, and its keyword.
_DESTINATION_CALLS = {
    ('json', 'dump'): (1, 'fp'),
    ('pickle', 'dump'): (1, 'file'),
    ('mmengine', 'dump'): (1, 'file'),
    ('torch', 'save'): (1, 'f'),
    ('np', 'save'): (0, 'file'),
    ('np', 'savez'): (0, 'file'),
    ('np', 'savez_compressed'): (0, 'file'),
    ('np', 'savetxt'): (0, 'fname'),
    ('numpy', 'save'): (0, 'file'),
    ('', 'savefig'): (0, 'fname'),
}
# Calls that always write a file.
_WRITING_METHODS = ('write_text', 'write_bytes')
_WRITING_FUNCTIONS = {('cv2', 'imwrite')}
_BUFFER_TYPES = ('BytesIO', 'StringIO')


def _dotted(node) -> tuple[str, str]:
    """(module name or '', attribute) of a call's function."""
    if isinstance(node, ast.Attribute):
        value = node.value
        return (value.id if isinstance(value, ast.Name) else '', node.attr)
    if isinstance(node, ast.Name):
        return ('', node.id)
    return ('', '')


def _buffer_names(tree) -> set[str]:
    """Names bound anywhere in the module to a new in-memory buffer."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if _dotted(node.value.func)[1] in _BUFFER_TYPES:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _destination(call: ast.Call, index: int, keyword: str):
    if len(call.args) > index:
        return call.args[index]
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    return None


def _open_mode(call: ast.Call) -> str:
    mode = _destination(call, 1, 'mode')
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return 'r' if mode is None else '?'  # A computed mode may write.


def find_direct_writes(source: str) -> list[tuple[int, str]]:
    """Calls of ``source`` that write a file other than atomically.

    Args:
        source (str): Python source code.

    Returns:
        list[tuple[int, str]]: ``(line, call)`` of every direct write that
        carries no ``# direct-write:`` reason.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    buffers = _buffer_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        module, name = _dotted(node.func)
        writes = False
        if (module, name) in _WRITING_FUNCTIONS or name in _WRITING_METHODS:
            writes = True
        elif module == '' and name == 'open' and isinstance(node.func, ast.Name):
            writes = any(flag in _open_mode(node) for flag in 'wax+?')
        else:
            key = (module, name) if (module, name) in _DESTINATION_CALLS else None
            if key is None and name == 'savefig':
                key = ('', 'savefig')
            if key is not None:
                destination = _destination(node, *_DESTINATION_CALLS[key])
                writes = destination is not None and not (
                    isinstance(destination, ast.Name) and destination.id in buffers
                )
        if not writes:
            continue
        first = max(0, node.lineno - 1 - PRAGMA_LINES_ABOVE)
        if any(PRAGMA in line for line in lines[first : node.lineno]):
            continue
        found.append((node.lineno, f'{module + "." if module else ""}{name}'))
    return found


def _sources():
    for folder in SCANNED_FOLDERS:
        for directory, _, names in os.walk(osp.join(REPO_ROOT, folder)):
            for name in sorted(names):
                path = osp.join(directory, name)
                if name.endswith('.py') and osp.relpath(path, REPO_ROOT) != FILEIO:
                    yield path


def test_clad_mm_and_tools_write_result_files_only_atomically():
    violations = []
    for path in _sources():
        with open(path, encoding='utf-8') as file:
            source = file.read()
        violations += [
            f'{osp.relpath(path, REPO_ROOT)}:{line}: {call}'
            for line, call in find_direct_writes(source)
        ]
    assert not violations, (
        'write through clad_mm.utils.fileio (write_atomically, '
        'write_json_atomically, write_image_atomically) or give a '
        f'"{PRAGMA} <reason>" comment: {violations}'
    )


@pytest.mark.parametrize(
    'snippet, call',
    [
        ("with open(path, 'w') as f:\n    f.write(text)", 'open'),
        ("file = open(path, mode='ab')", 'open'),
        ("file = open(path, 'r+b')", 'open'),
        ('file = open(path, mode)', 'open'),
        ('json.dump(report, f, indent=2)', 'json.dump'),
        ('mmengine.dump(metrics, out_path)', 'mmengine.dump'),
        ("mmengine.dump(metrics, file='x.json')", 'mmengine.dump'),
        ('pickle.dump(results, f)', 'pickle.dump'),
        ('torch.save(state, path)', 'torch.save'),
        ('np.save(path, array)', 'np.save'),
        ('cv2.imwrite(path, image)', 'cv2.imwrite'),
        ('figure.savefig(out_path, dpi=100)', 'figure.savefig'),
        ("Path(out).write_text('x')", 'write_text'),
    ],
)
def test_a_planted_direct_write_is_found(snippet, call):
    body = textwrap.indent(snippet, '    ')
    source = f'def writer(path, out_path, report, f, mode):\n{body}\n'
    assert find_direct_writes(source) == [(2, call)]


def test_reads_buffers_and_reasoned_journals_are_not_violations():
    source = textwrap.dedent(
        """
        import io

        def fine(path, figure, obj, array):
            with open(path, encoding='utf-8') as file:
                text = file.read()
            data = open(path, 'rb').read()
            buffer = io.BytesIO()
            figure.savefig(buffer, format='png')
            np.save(buffer, array)
            text = mmengine.dump(obj, file_format='json')
            encoded = json.dumps(obj)
            # direct-write: an append-only journal; its reader drops a torn
            # last line.
            with open(path, 'a', encoding='utf-8') as journal:
                journal.write(encoded)
        """
    )
    assert find_direct_writes(source) == []
