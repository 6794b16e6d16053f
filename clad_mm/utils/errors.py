"""The exceptions of user mistakes, and how a tool states them.

A user mistake (a path, a data layout, an image or mask file, a config key
or value, a checkpoint, a command-line value) raises :class:`UserError`
(or one of its subclasses, which are also the built-in exception a caller
would catch: ``ValueError``, ``FileNotFoundError``, ``FileExistsError``),
with a message naming the thing, what was found and what was expected.
The tools in ``tools/`` print that message alone and exit with status 1;
any other exception is a defect and keeps its traceback.

A DataLoader worker re-raises an exception with the worker's traceback
folded into the message; :func:`user_message` takes the raised sentence
back out of it.
"""

import re

#: Set to 1 to get the traceback of a user mistake too (developers).
DEBUG_VARIABLE = 'CLAD_MM_DEBUG'


class UserError(ValueError):
    """A mistake in the user's input, stated by its message.

    Raise it (or a subclass) only where the cause is what the user gave;
    the message names the file, key or value, what was found and what was
    expected, in one sentence.
    """


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named, or that a layout needs, is absent."""


class OutputExistsError(UserError, FileExistsError):
    """An output would replace a file the user has and did not allow to."""


def user_message(error: BaseException) -> str:
    """The message of a :class:`UserError` as the user should read it.

    Args:
        error (BaseException): A :class:`UserError`, possibly re-raised by
            a DataLoader worker.

    Returns:
        str: The raised message, without the worker's traceback.
    """
    message = str(error)
    if 'Original Traceback' in message:
        # "Caught UserError in DataLoader worker process 0.\nOriginal
        # Traceback ...\nclad_mm.utils.errors.UserError: <message>"
        marker = re.compile(
            r'^[\w.]*\b' + re.escape(type(error).__name__) + r': ', re.M
        )
        found = list(marker.finditer(message))
        if found:
            message = message[found[-1].end() :]
    return message.strip()
