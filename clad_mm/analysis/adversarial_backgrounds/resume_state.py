"""The resumable state of the adversarial-background evaluation.

Every finished foreground is appended as one JSON line to a state file whose
first line is a header holding the run's settings. A restarted run reads the
finished foregrounds back and evaluates only the others; a file written by a
run with other settings, or for other foregrounds, is an error rather than
mixed into the result. The checkpoint is matched by its content (sha256), so
a file replaced under the same path is refused too.
"""

import json
import os.path as osp
from collections.abc import Collection

from clad_mm.utils.errors import UserError

STATE_FORMAT = 'bg_challenge_adversarial_state'
# How every header line starts: a file killed while writing its header is
# recognised by it, anything else is not ours to overwrite.
_HEADER_START = b'{"format": "' + STATE_FORMAT.encode() + b'"'
_EXAMPLES_SHOWN = 5


def read_state(state_path: str, settings: dict) -> tuple[dict[str, dict], int]:
    """Reads the finished foregrounds of a state file.

    A run killed while writing leaves a last line without its newline; that
    line is not counted (its foreground is evaluated again).

    Args:
        state_path (str): The JSON-lines state file.
        settings (dict): Settings of the current run (JSON values).

    Returns:
        tuple: ``{foreground name: record}`` and the length in bytes of the
        complete lines (0 when the file does not exist).

    Raises:
        ValueError: If the file is not a state file, was written with other
            settings, or holds a corrupt line; the message names the file.
    """
    if not osp.exists(state_path):
        return {}, 0
    with open(state_path, 'rb') as file:
        content = file.read()
    complete_length = content.rfind(b'\n') + 1
    lines = content[:complete_length].decode('utf-8').splitlines()
    if not lines and content.startswith(_HEADER_START[: len(content)]):
        return {}, 0
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get('format') != STATE_FORMAT:
        raise UserError(
            f'{state_path} is not a state file of the adversarial-background '
            f'evaluation (its first line is not a {STATE_FORMAT!r} header); '
            'move it away or choose another output folder'
        )
    stored = header['settings']
    if (
        stored.get('checkpoint') == settings.get('checkpoint')
        and stored.get('checkpoint_sha256') != settings.get('checkpoint_sha256')
        and 'checkpoint_sha256' in settings
    ):
        raise UserError(
            f'{state_path} holds results of checkpoint {settings["checkpoint"]} '
            f'with sha256 {stored.get("checkpoint_sha256")}, but that file now '
            f'has sha256 {settings["checkpoint_sha256"]}: it was replaced, and '
            'resuming would mix two models. Use another output folder, or '
            'delete the state file to start over'
        )
    differences = _differences(stored, settings)
    if differences:
        raise UserError(
            f'{state_path} holds results of a run with other settings ('
            + '; '.join(differences)
            + '). Use another output folder, or delete the file to start over'
        )
    finished = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(
                f'{state_path}, line {number}: not a JSON record ({error})'
            ) from error
        finished.setdefault(record['foreground'], record)
    return finished, complete_length


def _differences(stored: dict, current: dict) -> list[str]:
    return [
        f'{key}: {stored.get(key)!r} in the file, {current.get(key)!r} now'
        for key in sorted(set(stored) | set(current))
        if stored.get(key) != current.get(key)
    ]


def open_state(state_path: str, settings: dict, complete_length: int):
    """Opens a state file for appending finished foregrounds.

    Args:
        state_path (str): The JSON-lines state file.
        settings (dict): Settings of the current run, written to the header
            of a new file.
        complete_length (int): As returned by :func:`read_state`: 0 starts a
            new file, otherwise the file is cut to its complete lines.

    Returns:
        BinaryIO: The file, positioned at its end.
    """
    if complete_length == 0:
        # direct-write: an append-only state; read_state keeps complete lines.
        file = open(state_path, 'wb')
        header = dict(format=STATE_FORMAT, settings=settings)
        file.write((json.dumps(header) + '\n').encode('utf-8'))
    else:
        # direct-write: cut back to its complete lines, then appended to.
        file = open(state_path, 'r+b')
        file.truncate(complete_length)
        file.seek(complete_length)
    return file


def require_known_foregrounds(
    state_path: str, finished: dict, names: Collection[str]
) -> None:
    """Raises if a state file holds foregrounds that the run does not evaluate.

    Args:
        state_path (str): The state file, for the message.
        finished (dict): ``{foreground name: record}`` read from it.
        names (Collection[str]): Names of the foregrounds of the run.

    Raises:
        ValueError: Naming the file and a few of the unknown foregrounds.
    """
    unknown = sorted(set(finished) - set(names))
    if unknown:
        raise UserError(
            f'{state_path} holds results for foregrounds that this run does '
            f'not evaluate, e.g. {unknown[:_EXAMPLES_SHOWN]}; the test set '
            'changed since it was written. Delete it to start over'
        )
