"""The one image reader and the one atomic writer of clad_mm.

Every module that reads an image from a path or writes a file that a later
run reads back goes through here, so that

* an unreadable image always fails with one message that names the file and
  says whether it is missing or cannot be decoded, and
* a run killed mid-write leaves at most a hidden temporary file
  (``.<name>.tmp<pid>`` beside the destination, which folder listings
  ignore and :func:`remove_stale_temporaries` deletes), never a truncated
  output that a resumed run would take for a finished one.
"""

import hashlib
import io
import json
import os
import os.path as osp
import re

import cv2
import numpy as np

from .errors import MissingFileError, UserError

#: JPEG quality of every image clad_mm writes (OpenCV's encoder parameters).
JPEG_QUALITY = 95
JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]

_READ_FLAGS = {
    'color': cv2.IMREAD_COLOR,
    'grayscale': cv2.IMREAD_GRAYSCALE,
    'unchanged': cv2.IMREAD_UNCHANGED,
}
_TEMPORARY_NAME = re.compile(r'^\..+\.tmp\d+$')


def read_image(path: str, flag: str = 'color') -> np.ndarray:
    """Decodes an image file.

    Args:
        path (str): The image file.
        flag (str): ``'color'`` (H x W x 3 BGR, as MMCV's
            ``LoadImageFromFile``), ``'grayscale'`` (H x W) or
            ``'unchanged'`` (as stored). Defaults to ``'color'``.

    Returns:
        np.ndarray: The decoded image (uint8 for 8-bit files).

    Raises:
        MissingFileError: Naming the file, if it does not exist.
        UserError: Naming the file, if it cannot be decoded (empty,
            truncated or not an image).
    """
    if flag not in _READ_FLAGS:
        raise ValueError(f'flag must be one of {sorted(_READ_FLAGS)}, got {flag!r}')
    if not osp.isfile(path):
        raise MissingFileError(f'{path}: no such image file')
    image = cv2.imread(path, _READ_FLAGS[flag])
    if image is None:
        raise UserError(
            f'{path}: cannot be decoded as an image (empty, truncated or not '
            'an image file)'
        )
    return image


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's content, read in blocks.

    Args:
        path (str): The file.

    Returns:
        str: The hexadecimal digest.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _temporary_path(path: str) -> str:
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.tmp{os.getpid()}')


def write_atomically(path: str, content: bytes | str) -> None:
    """Writes a file so that it appears whole or not at all.

    The content goes to ``.<name>.tmp<pid>`` beside ``path`` and is then
    moved into place with :func:`os.replace`. Parent folders are created.

    Args:
        path (str): Destination file.
        content (bytes | str): The bytes to write; a str is UTF-8 encoded.
    """
    if isinstance(content, str):
        content = content.encode('utf-8')
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    temporary = _temporary_path(path)
    try:
        with open(temporary, 'wb') as file:
            file.write(content)
        os.replace(temporary, path)
    finally:
        if osp.exists(temporary):
            os.remove(temporary)


def write_json_atomically(path: str, obj, indent: int | None = 1) -> None:
    """Writes ``obj`` as UTF-8 JSON with :func:`write_atomically`.

    Args:
        path (str): Destination file.
        obj: A JSON-serialisable object.
        indent (int, optional): ``json.dumps`` indent. Defaults to 1.
    """
    write_atomically(path, json.dumps(obj, indent=indent, ensure_ascii=False))


def encode_image(path: str, image: np.ndarray) -> bytes:
    """Encodes an image in the format that the extension of ``path`` names.

    JPEG (``.JPEG``, ``.jpg``, ``.jpeg``, any case) at quality
    :data:`JPEG_QUALITY`; other extensions (``.png``, …) with OpenCV's
    defaults. ``.npy`` stores the array itself with :func:`numpy.save`.

    Args:
        path (str): Destination whose extension picks the format.
        image (np.ndarray): H x W x 3 BGR or H x W array.

    Returns:
        bytes: The encoded file.

    Raises:
        ValueError: Naming the path, if OpenCV cannot encode the image.
    """
    extension = osp.splitext(path)[1].lower()
    if extension == '.npy':
        buffer = io.BytesIO()
        np.save(buffer, image, allow_pickle=False)
        return buffer.getvalue()
    if extension in ('.jpeg', '.jpg'):
        ok, encoded = cv2.imencode('.jpg', image, JPEG_PARAMS)
    else:
        ok, encoded = cv2.imencode(extension, image)
    if not ok:
        raise ValueError(f'OpenCV could not encode an image for {path}')
    return encoded.tobytes()


def write_image_atomically(path: str, image: np.ndarray) -> None:
    """Encodes an image (:func:`encode_image`) and writes it atomically.

    Args:
        path (str): Destination; its extension picks the format.
        image (np.ndarray): H x W x 3 BGR or H x W array.
    """
    write_atomically(path, encode_image(path, image))


def is_temporary_name(name: str) -> bool:
    """Whether a file name is that of a :func:`write_atomically` temporary.

    Args:
        name (str): A file name (no folder).

    Returns:
        bool: True for ``.<name>.tmp<pid>``.
    """
    return bool(_TEMPORARY_NAME.match(name))


def remove_stale_temporaries(root: str) -> int:
    """Deletes the temporaries that killed writers left under ``root``.

    Only names of the form ``.<name>.tmp<pid>`` (what
    :func:`write_atomically` creates) are removed; nothing else is touched.

    Args:
        root (str): Folder to walk; nothing happens if it does not exist.

    Returns:
        int: Number of files removed.
    """
    removed = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if is_temporary_name(name):
                os.remove(osp.join(folder, name))
                removed += 1
    return removed
