"""Naming the file behind a sample that could not be loaded.

MMCV's ``LoadImageFromFile`` fails on a zero-byte, truncated or non-image
file with an OpenCV error (``!buf.empty()``) or a ``None`` image, and the
path appears nowhere. A dataset's ``prepare_data`` calls
:func:`prepare_or_name_bad_file`, which, when the pipeline fails, reads the
sample's files again and raises a :class:`~clad_mm.utils.errors.UserError`
naming the one that is missing or undecodable; if every file is fine, the
pipeline's own exception is re-raised unchanged (a defect keeps its
traceback).
"""

import os.path as osp
from collections.abc import Callable, Mapping
from typing import Any

from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.fileio import read_image

#: The keys of a data info that hold a file a sample is read from, with the
#: name of the file in a message.
SAMPLE_FILE_KEYS = {
    'img_path': 'image',
    'fg_mask_path': 'foreground mask',
    'bg_path': 'background image',
}


def find_bad_sample_file(
    data_info: Mapping, file_keys: Mapping[str, str] = SAMPLE_FILE_KEYS
) -> UserError | None:
    """Reads a sample's files and says which one cannot be read, if any.

    Images are decoded with :func:`clad_mm.utils.fileio.read_image`;
    ``.npy`` masks are only checked to exist (``LoadForegroundMask`` states
    their content errors itself).

    Args:
        data_info (Mapping): The sample's data info.
        file_keys (Mapping[str, str]): Keys of ``data_info`` holding a file,
            with the file's name in the message.

    Returns:
        UserError | None: The error naming the first bad file (a
        :class:`~clad_mm.utils.errors.MissingFileError` for an absent one),
        or None when all of them read.
    """
    for key, kind in file_keys.items():
        path = data_info.get(key)
        if not isinstance(path, str):
            continue
        try:
            if path.endswith('.npy'):
                if not osp.isfile(path):
                    raise MissingFileError(f'{path}: no such file')
            else:
                read_image(path, 'unchanged')
        except UserError as error:
            return type(error)(
                f'The {kind} of sample {data_info.get("sample_idx", "?")} '
                f'cannot be read: {error}'
            )
    return None


def prepare_or_name_bad_file(
    prepare: Callable[[int], Any], get_data_info: Callable[[int], dict], index: int
) -> Any:
    """Runs a dataset's ``prepare_data``, naming a bad file if it fails.

    Args:
        prepare (Callable[[int], Any]): The dataset's own preparation
            (``BaseDataset.prepare_data``).
        get_data_info (Callable[[int], dict]): The dataset's
            ``get_data_info``.
        index (int): The sample's index.

    Returns:
        Any: What ``prepare`` returns.

    Raises:
        UserError: Naming the sample's file that is missing or cannot be
            decoded, when ``prepare`` fails on it; the pipeline's exception
            is its cause. Any other failure is re-raised unchanged.
    """
    try:
        return prepare(index)
    except UserError:
        raise
    except Exception as error:
        bad_file = find_bad_sample_file(get_data_info(index))
        if bad_file is None:
            raise
        raise bad_file from error
