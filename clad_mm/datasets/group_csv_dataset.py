from collections.abc import Sequence

from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import UserError

from .group_dataset import (
    SPLITS,
    GroupAnnotation,
    GroupLabelledDataset,
    GroupRecord,
    parse_choice,
    read_csv_header,
    read_csv_table,
)

_COLUMNS = ('path', 'label', 'group')
_SPLIT_COLUMN = 'split'
_LAYOUT = (
    'a comma-separated file with the header path,label,group (and '
    'optionally split): the image path relative to data_root, the class and '
    'the group as integers >= 0, and train, val or test'
)


def _parse_index(path: str, line: int, column: str, value: str) -> int:
    """An integer >= 0 of the CSV, or a UserError naming where it is."""
    try:
        index = int(value)
    except ValueError:
        index = -1
    if index < 0:
        raise UserError(
            f'{path}, line {line}: the {column} {value!r} is not an integer >= 0'
        )
    return index


def _value_names(
    path: str,
    lines: Sequence[int],
    values: Sequence[int],
    column: str,
    configured: Sequence[str] | None,
    default_name: str,
) -> tuple[str, ...]:
    """The names of a column's values: the configured ones, which must name
    every value, or ``'<default_name> <value>'`` up to the largest value."""
    if configured is None:
        return tuple(
            f'{default_name} {value}' for value in range(max(values, default=-1) + 1)
        )
    for line, value in zip(lines, values):
        if value >= len(configured):
            raise UserError(
                f'{path}, line {line}: the {column} {value} has no name; '
                f'{len(configured)} names are configured, for 0 to '
                f'{len(configured) - 1}'
            )
    return tuple(configured)


@DATASETS.register_module()
class GroupCSVDataset(GroupLabelledDataset):
    """A user's group-labelled classification data, listed in a CSV file.

    For data sets other than Waterbirds and CelebA, in ClusterFix's
    group-robustness evaluation (Capitani et al., "ClusterFix: A
    Cluster-Based Debiasing Approach Without Protected-Group Supervision",
    WACV 2024). The CSV file (UTF-8, comma-separated, fields quoted where
    they hold a comma) has a header naming at least ``path``, ``label``
    and ``group``, in any order::

        path,label,group,split
        birds/water bird 1.jpg,1,3,train
        birds/land bird 7.jpg,0,1,test

    - ``path``: the image, relative to ``data_root``;
    - ``label``: the class, an integer ``>= 0``;
    - ``group``: the group, an integer ``>= 0``, numbered as the user
      likes (e.g. ``label * num_bias_values + bias``, as
      :class:`WaterbirdsDataset` does); names are not accepted here, they
      come from ``group_names``;
    - ``split`` (optional): ``train``, ``val`` or ``test``.

    Other columns are ignored. Without a ``split`` column the file is one
    split: ``split`` must be None, and ``train_group_counts`` counts the
    whole file. With one, ``split`` selects the rows (None takes them all)
    and ``train_group_counts`` counts the ``train`` rows, which must exist.
    The number of classes is ``len(classes)``, else the largest label plus
    one (classes named ``'class 0'``, ...); the number of groups is
    ``len(group_names)``, else the largest group plus one (``'group 0'``,
    ...), both over the whole file, so that every split of it agrees. Data
    infos and metainfo hold the keys of :class:`GroupLabelledDataset`.

    Args:
        data_root (str): The folder image paths are relative to.
        ann_file (str): The CSV file, relative to ``data_root`` unless
            absolute.
        split (str, optional): ``'train'``, ``'val'``, ``'test'``, or None
            for every row. Defaults to None.
        classes (Sequence[str] | str, optional): The class names by label,
            or a file of them, one a line. Defaults to None.
        group_names (Sequence[str], optional): The group names by group.
            Defaults to None.
        **kwargs: The other arguments of :class:`GroupLabelledDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).

    Raises:
        UserError: If ``split`` is invalid (at construction) or, when the
            data is loaded, if ``split`` is given for a file without a
            ``split`` column, or the file is malformed or holds a label or
            group beyond the configured names (the message names the file
            and line).
        MissingFileError: If the CSV file or an image is missing.
    """

    SPLITS = (*SPLITS, None)

    def __init__(
        self,
        data_root: str,
        ann_file: str,
        split: str | None = None,
        classes: Sequence[str] | str | None = None,
        group_names: Sequence[str] | None = None,
        **kwargs,
    ):
        self.configured_group_names = (
            None if group_names is None else tuple(group_names)
        )
        super().__init__(data_root, split, ann_file=ann_file, classes=classes, **kwargs)

    def load_annotation(self) -> GroupAnnotation:
        """Reads the CSV file.

        Returns:
            GroupAnnotation: Every row of the file.
        """
        path = self.ann_file
        has_splits = _SPLIT_COLUMN in read_csv_header(path, _LAYOUT)
        if self.split is not None and not has_splits:
            raise UserError(
                f'{path} has no {_SPLIT_COLUMN} column, so it is one split: '
                f'split must be None, got {self.split!r}'
            )
        columns = _COLUMNS + ((_SPLIT_COLUMN,) if has_splits else ())
        rows = read_csv_table(path, columns, _LAYOUT)
        records = []
        for line, fields in rows:
            records.append(
                GroupRecord(
                    path=fields[0],
                    label=_parse_index(path, line, 'label', fields[1]),
                    group=_parse_index(path, line, 'group', fields[2]),
                    split=(
                        parse_choice(
                            path,
                            line,
                            _SPLIT_COLUMN,
                            fields[3],
                            {split: split for split in SPLITS},
                        )
                        if has_splits
                        else None
                    ),
                )
            )
        lines = [line for line, _ in rows]
        classes = _value_names(
            path,
            lines,
            [record.label for record in records],
            'label',
            self.CLASSES,
            'class',
        )
        group_names = _value_names(
            path,
            lines,
            [record.group for record in records],
            'group',
            self.configured_group_names,
            'group',
        )
        return GroupAnnotation(
            records=records, classes=classes, group_names=group_names, source=path
        )
