"""Reading the pseudo-label files of ClusterFix.

ClusterFix (Capitani et al., `ClusterFix: A Cluster-Based Debiasing
Approach Without Protected-Group Supervision
<https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_,
WACV 2024) trains with pseudo-groups: the clusters of a pretrained
network's features within each target class, fixed for the run.
``tools/analysis/make_pseudo_labels.py`` writes them as one JSON file::

    {
      "format": "clad_mm.pseudo_labels",
      "version": 1,
      "clusters_per_class": k,
      "num_classes": C,
      "feature_config": ..., "checkpoint": ..., "data_config": ..., "seed": ...,
      "splits": {"train": {img_path: global_id, ...}, "val": {...}, ...},
      "cluster_sizes": [train images per global cluster, k * C of them]
    }

where the global cluster id of an image of class ``c`` in its class's
cluster ``j`` is ``j + k * c``, and the keys of a split are the
``img_path`` strings of its dataset's data infos. This module is the
runtime's reader of that file (a training transform uses it); it imports
nothing from :mod:`clad_mm.analysis`.
"""

import json
import os.path as osp

from clad_mm.utils.errors import MissingFileError, UserError

#: The ``format`` and ``version`` of a pseudo-label file.
PSEUDO_LABEL_FORMAT = 'clad_mm.pseudo_labels'
PSEUDO_LABEL_VERSION = 1


def load_pseudo_labels(path: str) -> dict:
    """Reads and checks a pseudo-label file.

    Args:
        path (str): The JSON file written by
            ``tools/analysis/make_pseudo_labels.py``.

    Returns:
        dict: The file's content (see the module's notes); every split maps
        image paths to ints in ``[0, clusters_per_class * num_classes)``, and
        ``cluster_sizes`` lists that many non-negative ints.

    Raises:
        MissingFileError: If the file does not exist.
        UserError: Naming the file, if it is no JSON, is of another format
            or version, or holds a malformed count, split, cluster id or
            cluster size.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'pseudo-label file {path}: no such file')
    try:
        with open(path, encoding='utf-8') as file:
            content = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f'pseudo-label file {path} cannot be read: {error}') from error
    if not isinstance(content, dict) or content.get('format') != PSEUDO_LABEL_FORMAT:
        found = content.get('format') if isinstance(content, dict) else content
        raise UserError(
            f'{path} is not a pseudo-label file: its format is {found!r}, '
            f'expected {PSEUDO_LABEL_FORMAT!r} (written by '
            'tools/analysis/make_pseudo_labels.py)'
        )
    if content.get('version') != PSEUDO_LABEL_VERSION:
        raise UserError(
            f'pseudo-label file {path} has version {content.get("version")!r}; '
            f'this clad_mm reads version {PSEUDO_LABEL_VERSION}'
        )
    for key in ('clusters_per_class', 'num_classes'):
        value = content.get(key)
        if not _is_count(value):
            raise UserError(
                f'pseudo-label file {path}: {key} must be a positive integer, '
                f'got {value!r}'
            )
    num_clusters = content['clusters_per_class'] * content['num_classes']
    splits = content.get('splits')
    if not isinstance(splits, dict) or 'train' not in splits:
        raise UserError(
            f'pseudo-label file {path}: splits must be an object holding at least '
            f'"train", got {type(splits).__name__}'
            + (f' with {sorted(splits)}' if isinstance(splits, dict) else '')
        )
    for split, assignment in splits.items():
        if not isinstance(assignment, dict):
            raise UserError(
                f'pseudo-label file {path}: split {split!r} must map image paths '
                f'to cluster ids, got {type(assignment).__name__}'
            )
        for img_path, cluster in assignment.items():
            if not _is_int(cluster) or not 0 <= cluster < num_clusters:
                raise UserError(
                    f'pseudo-label file {path}: split {split!r} gives {img_path} '
                    f'the cluster {cluster!r}, expected an integer in '
                    f'[0, {num_clusters})'
                )
    sizes = content.get('cluster_sizes')
    if (
        not isinstance(sizes, list)
        or len(sizes) != num_clusters
        or not all(_is_int(size) and size >= 0 for size in sizes)
    ):
        raise UserError(
            f'pseudo-label file {path}: cluster_sizes must list {num_clusters} '
            f'non-negative integers (the train images per cluster), got {sizes!r}'
        )
    return content


def _is_int(value) -> bool:
    # JSON true/false load as bool, which is an int subclass.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value) -> bool:
    return _is_int(value) and value > 0
