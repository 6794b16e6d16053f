"""Utilities of clad_mm: the user-mistake exceptions, the one image reader and
atomic writer."""

from .errors import MissingFileError, OutputExistsError, UserError, user_message
from .fileio import (
    JPEG_PARAMS,
    JPEG_QUALITY,
    encode_image,
    read_image,
    remove_stale_temporaries,
    write_atomically,
    write_image_atomically,
    write_json_atomically,
)

__all__ = [
    'MissingFileError',
    'OutputExistsError',
    'UserError',
    'user_message',
    'JPEG_PARAMS',
    'JPEG_QUALITY',
    'encode_image',
    'read_image',
    'remove_stale_temporaries',
    'write_atomically',
    'write_image_atomically',
    'write_json_atomically',
]
