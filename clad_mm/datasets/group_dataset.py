"""The base of the group-labelled classification datasets.

Group-robustness evaluation (worst-group and mean-group accuracy) needs,
besides each image's class, its group: the cell of a (target class, bias
attribute) table, such as Waterbirds' "waterbird on land". These datasets
give the group to the evaluator only; a training loss never reads it
(ClusterFix, Capitani et al., "ClusterFix: A Cluster-Based Debiasing
Approach Without Protected-Group Supervision", WACV 2024, debiases without
group labels). Each subclass reads one annotation layout; this module does
the rest (split selection, the train-split group counts, file checks) and
holds the CSV readers and the group numbering the subclasses share.
"""

import csv
import os.path as osp
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TypeVar

from mmpretrain.datasets import BaseDataset

from clad_mm.utils.errors import MissingFileError, UserError

from .class_disjoint_retrieval_dataset import name_examples, require_annotation_file
from .sample_diagnosis import prepare_or_name_bad_file
from .seeded_sample_dataset import SeededSampleDatasetMixin

SPLITS = ('train', 'val', 'test')

Choice = TypeVar('Choice')


class GroupRecord(NamedTuple):
    """One image of a group-labelled annotation.

    Attributes:
        path (str): The image's path relative to the dataset's ``data_root``.
        label (int): Its target class, ``0..C-1``.
        group (int): Its group, ``0..G-1``.
        split (str | None): ``'train'``, ``'val'`` or ``'test'``, or None in
            an annotation without splits.
    """

    path: str
    label: int
    group: int
    split: str | None


class GroupAnnotation(NamedTuple):
    """Everything a group-labelled annotation holds, over all its splits.

    Attributes:
        records (list[GroupRecord]): Every image, in the annotation's order.
        classes (tuple[str, ...]): The target class names, by label.
        group_names (tuple[str, ...]): The group names, by group.
        source (str): The annotation file(s), named in messages.
    """

    records: list[GroupRecord]
    classes: tuple[str, ...]
    group_names: tuple[str, ...]
    source: str


def crossed_group(label: int, bias: int, num_bias_values: int) -> int:
    """The group of a (target class, bias value) pair, row-major.

    Args:
        label (int): The target class.
        bias (int): The bias attribute's value, ``0..num_bias_values-1``.
        num_bias_values (int): How many values the bias attribute takes.

    Returns:
        int: ``label * num_bias_values + bias``.
    """
    return label * num_bias_values + bias


def crossed_group_names(
    classes: Sequence[str], bias_names: Sequence[str], joiner: str
) -> tuple[str, ...]:
    """The names of the groups of :func:`crossed_group`, by group.

    Args:
        classes (Sequence[str]): The target class names.
        bias_names (Sequence[str]): The names of the bias values.
        joiner (str): What comes between the two names (``' on '`` makes
            ``'waterbird on land'``).

    Returns:
        tuple[str, ...]: ``<class><joiner><bias value>`` for each class and,
        within a class, each bias value.
    """
    return tuple(f'{name}{joiner}{bias}' for name in classes for bias in bias_names)


def read_csv_header(path: str, layout: str) -> tuple[str, ...]:
    """The column names of a CSV annotation file (spaces around them dropped).

    Args:
        path (str): The file (UTF-8, with or without a byte-order mark).
        layout (str): The expected layout, named if the file is missing or
            has no header.

    Returns:
        tuple[str, ...]: The names in the first line.

    Raises:
        MissingFileError: If the file does not exist.
        UserError: If its first line is empty.
    """
    require_annotation_file(path, layout)
    with open(path, encoding='utf-8-sig', newline='') as file:
        header = next(csv.reader(file), [])
    if not any(name.strip() for name in header):
        raise UserError(f'{path}, line 1: expected a header line; expected {layout}')
    return tuple(name.strip() for name in header)


def read_csv_table(
    path: str, columns: Sequence[str], layout: str
) -> list[tuple[int, tuple[str, ...]]]:
    """Reads some columns of a comma-separated annotation file with a header.

    Fields may be quoted (a path with a comma); blank lines are skipped and
    other columns are ignored.

    Args:
        path (str): The file (UTF-8, with or without a byte-order mark).
        columns (Sequence[str]): The columns to read; the header must name
            each of them.
        layout (str): The expected layout, named in messages.

    Returns:
        list[tuple[int, tuple[str, ...]]]: ``(line number, fields)`` per
        data row, line numbers 1-based and fields in the order of
        ``columns``.

    Raises:
        MissingFileError: If the file does not exist.
        UserError: Naming the file and the missing columns of the header,
            or the file and line of a row with a wrong number of fields.
    """
    header = read_csv_header(path, layout)
    missing = [name for name in columns if name not in header]
    if missing:
        raise UserError(
            f'{path}: the header {",".join(header)!r} lacks the column(s) '
            f'{", ".join(missing)}; expected {layout}'
        )
    positions = [header.index(name) for name in columns]
    rows = []
    with open(path, encoding='utf-8-sig', newline='') as file:
        reader = csv.reader(file)
        next(reader)
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(header):
                raise UserError(
                    f'{path}, line {reader.line_num}: expected the '
                    f'{len(header)} fields of the header, got {len(fields)}'
                )
            rows.append(
                (reader.line_num, tuple(fields[position] for position in positions))
            )
    return rows


def parse_choice(
    path: str, line: int, column: str, value: str, choices: Mapping[str, Choice]
) -> Choice:
    """Converts an annotation field that takes one of a few values.

    Args:
        path (str): The annotation file, for the message.
        line (int): The field's line, for the message.
        column (str): The field's column, for the message.
        value (str): The field (spaces around it are ignored).
        choices (Mapping[str, Choice]): Each accepted text and its value.

    Returns:
        Choice: The value of ``value``.

    Raises:
        UserError: Naming the file, line, column and value, and the accepted
            texts.
    """
    try:
        return choices[value.strip()]
    except KeyError:
        raise UserError(
            f'{path}, line {line}: the {column} {value!r} is not one of '
            f'{", ".join(choices)}'
        ) from None


class GroupLabelledDataset(SeededSampleDatasetMixin, BaseDataset):
    """A classification split whose images also carry a group label.

    The base of :class:`WaterbirdsDataset`, :class:`CelebADataset` and
    :class:`GroupCSVDataset`, the group-robustness benchmarks of ClusterFix
    (Capitani et al., WACV 2024). A subclass implements
    :meth:`load_annotation`, which reads every split of its annotation;
    this class keeps the records of ``split``, in the annotation's order.
    Each data info holds:

    - ``img_path``: ``<data_root>/<path>``;
    - ``gt_label`` (int): the target class;
    - ``group`` (int): the group, ``0..G-1``; for a (target, bias
      attribute) table it is ``label * num_bias_values + bias``
      (:func:`crossed_group`).

    ``metainfo`` holds ``classes`` (the target class names, by label),
    ``group_names`` (by group) and ``train_group_counts`` (a tuple of ``G``
    ints: how many images of each group the annotation's ``'train'`` split
    holds, whatever ``split`` this dataset is, for the train-proportion
    weighted mean accuracy; an annotation without splits counts all its
    images). The group reaches the predictions only if the pipeline packs
    it: end it with ``dict(type='PackInputs', meta_keys=(..., 'group'))``,
    and every data sample carries ``data_sample.group``. Everything is
    checked at initialisation (files are listed, never decoded): every
    image of the split must exist.

    Args:
        data_root (str): The data set's root folder (see the subclass).
        split (str | None): One of :attr:`SPLITS`.
        ann_file (str): The annotation file of a subclass reading one file
            (relative to ``data_root`` unless absolute); ``''`` for a fixed
            layout. Defaults to ``''``.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``test_mode``, ``lazy_init``, ``metainfo``, ``classes``,
            ``indices``, ...). Configured class names must be as many as the
            annotation's classes; ``indices`` leaves ``train_group_counts``
            as it is.

    Raises:
        UserError: If ``split`` is invalid (at construction) or, when the
            data is loaded, if the annotation is malformed, the split or the
            annotation's train split is empty, or an image is missing.
        MissingFileError: If an annotation file or an image is missing.
    """

    #: The values ``split`` may take.
    SPLITS: tuple[str | None, ...] = SPLITS

    def __init__(
        self,
        data_root: str,
        split: str | None,
        ann_file: str = '',
        pipeline: Sequence = (),
        **kwargs,
    ):
        if split not in self.SPLITS:
            raise UserError(f'split must be one of {self.SPLITS}, got {split!r}')
        self.split = split
        super().__init__(
            ann_file=ann_file, data_root=data_root, pipeline=pipeline, **kwargs
        )

    def load_annotation(self) -> GroupAnnotation:
        """Reads the images of every split, with their classes and groups.

        Returns:
            GroupAnnotation: The annotation.
        """
        raise NotImplementedError

    def load_data_list(self) -> list[dict]:
        """Lists the split's images and checks that their files exist.

        Returns:
            list[dict]: One data info per image of the split.
        """
        annotation = self.load_annotation()
        records = annotation.records
        has_splits = any(record.split is not None for record in records)
        train_records = (
            [record for record in records if record.split == 'train']
            if has_splits
            else records
        )
        if not train_records:
            raise UserError(
                f'{annotation.source} has no image of the train split, whose '
                'group counts weigh the mean group accuracy'
            )
        train_group_counts = [0] * len(annotation.group_names)
        for record in train_records:
            train_group_counts[record.group] += 1

        if self.split is not None:
            records = [record for record in records if record.split == self.split]
        if not records:
            of_split = '' if self.split is None else f' of the {self.split} split'
            raise UserError(f'{annotation.source} has no image{of_split}')
        img_paths = [osp.join(self.data_root, record.path) for record in records]
        missing = [path for path in img_paths if not osp.isfile(path)]
        if missing:
            raise MissingFileError(
                f'Missing images listed by {annotation.source} for the '
                f'{self.split} split, {name_examples(missing)}'
            )

        configured = self.CLASSES
        if configured is not None and len(configured) != len(annotation.classes):
            raise UserError(
                f'{len(configured)} class names are configured but '
                f'{annotation.source} has {len(annotation.classes)} classes'
            )
        self._metainfo.update(
            classes=tuple(configured or annotation.classes),
            group_names=annotation.group_names,
            train_group_counts=tuple(train_group_counts),
        )
        return [
            dict(img_path=img_path, gt_label=record.label, group=record.group)
            for img_path, record in zip(img_paths, records)
        ]

    def prepare_data(self, idx: int):
        """Runs the pipeline on a sample, naming its image if it is bad.

        Args:
            idx (int): The sample's index.

        Returns:
            Any: The pipeline's output.
        """
        return prepare_or_name_bad_file(super().prepare_data, self.get_data_info, idx)

    def extra_repr(self) -> list[str]:
        """The extra repr information of the dataset."""
        return [
            f'Data root: \t{self.data_root}',
            f'Split: \t{self.split}',
            f'Groups: \t{self.metainfo.get("group_names")}',
        ]
