"""The base of the class-disjoint retrieval datasets (CUB, Cars196, SOP).

Deep metric learning trains on one set of classes and retrieves images of
classes never seen in training, so these datasets split by class, not by
image. Each subclass reads one official release's annotation files; this
module does the rest (splits, labels, validation carve-out, masks,
test-time background draws) and holds the annotation-file readers the
subclasses share.
"""

import os.path as osp
from collections.abc import Callable, Sequence
from typing import NamedTuple

from mmpretrain.datasets import BaseDataset

from clad_mm.utils.errors import MissingFileError, UserError
from clad_mm.utils.random_state import sample_seed

from .sample_diagnosis import prepare_or_name_bad_file
from .seeded_sample_dataset import SeededSampleDatasetMixin

SPLITS = ('train', 'val', 'test')
#: The official split that each split's classes come from.
_OFFICIAL_SPLITS = {'train': 'train', 'val': 'train', 'test': 'test'}
_EXAMPLES_NAMED = 3


class RetrievalRecord(NamedTuple):
    """One image of an official annotation listing.

    Attributes:
        relpath (str): The image's path relative to the dataset's
            :attr:`~ClassDisjointRetrievalDataset.IMAGE_DIR`.
        class_id (int): Its official (1-based) class id.
        class_name (str): The name of that class.
    """

    relpath: str
    class_id: int
    class_name: str


def require_annotation_file(path: str, layout: str) -> None:
    """Raises unless an annotation file of a release exists.

    Args:
        path (str): The file the layout needs.
        layout (str): The layout, for the message.

    Raises:
        MissingFileError: Naming the file and the layout.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'{path} does not exist; expected {layout}')


def read_annotation_table(
    path: str,
    columns: Sequence[tuple[str, Callable[[str], object]]],
    layout: str,
    header: str | None = None,
) -> list[tuple[int, tuple]]:
    """Reads a whitespace-separated annotation file of an official release.

    Blank lines are skipped. The last column takes the rest of the line, so
    a class name or a path in it may contain spaces.

    Args:
        path (str): The file.
        columns (Sequence[tuple[str, Callable]]): Each column's name (for
            messages) and its converter (``int`` or ``str``).
        layout (str): The release's layout, named if the file is missing.
        header (str, optional): The first line the file must start with
            (compared field by field), or None for a file without header.
            Defaults to None.

    Returns:
        list[tuple[int, tuple]]: ``(line number, converted fields)`` per
        data line, line numbers 1-based.

    Raises:
        MissingFileError: If the file does not exist.
        UserError: Naming the file and line of a wrong header, a line with
            too few fields or a field that does not convert.
    """
    require_annotation_file(path, layout)
    expected = ' '.join(f'<{name}>' for name, _ in columns)
    with open(path, encoding='utf-8') as file:
        lines = file.read().splitlines()
    rows = []
    header_pending = header is not None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if header_pending:
            if line.split() != header.split():
                raise UserError(
                    f'{path}, line {number}: expected the header {header!r}, '
                    f'got {line!r}'
                )
            header_pending = False
            continue
        fields = line.strip().split(maxsplit=len(columns) - 1)
        if len(fields) != len(columns):
            raise UserError(
                f'{path}, line {number}: expected "{expected}", got {line!r}'
            )
        converted = []
        for (name, convert), field in zip(columns, fields):
            try:
                converted.append(convert(field))
            except ValueError:
                raise UserError(
                    f'{path}, line {number}: the {name} {field!r} is not '
                    f'{"an integer" if convert is int else "valid"}; expected '
                    f'"{expected}"'
                ) from None
        rows.append((number, tuple(converted)))
    return rows


def name_examples(names: Sequence[str]) -> str:
    """How many ``names`` there are and the first few, for a message."""
    shown = ', '.join(names[:_EXAMPLES_NAMED])
    more = ', ...' if len(names) > _EXAMPLES_NAMED else ''
    return f'{len(names)}: {shown}{more}'


class ClassDisjointRetrievalDataset(SeededSampleDatasetMixin, BaseDataset):
    """A class-disjoint retrieval split of an official data set release.

    The base of :class:`CUBRetrievalDataset`, :class:`Cars196RetrievalDataset`
    and :class:`SOPRetrievalDataset` (BGAugment, Kobs & Hotho, "On
    Background Bias in Deep Metric Learning", ICMV 2022,
    https://arxiv.org/abs/2210.01615): training and test splits hold
    disjoint classes, as deep metric learning evaluates retrieval of unseen
    classes. A subclass implements :meth:`load_official_split`, which reads
    the release's annotation files and returns the images of the official
    ``'train'`` or ``'test'`` class split with that split's class ids. The
    ``'val'`` split is carved out of the training classes: the last
    ``val_classes`` training class ids (in id order) form it and leave
    ``'train'``.

    Samples come class by class in class-id order, in the order of the
    official listing within a class. Each data info holds:

    - ``img_path``: ``<data_root>/<IMAGE_DIR>/<relpath>``;
    - ``gt_label`` (int): contiguous ``0..C-1`` within the split, in
      class-id order;
    - ``class_id`` (int): the official 1-based class id;
    - ``mask_path`` (with ``masks_root``): ``<masks_root>/<relpath>`` with
      the suffix replaced by ``.png``, a foreground mask or matte such as
      CUB's segmentations (read by whichever transform uses it);
    - ``bg_draw`` (int) and ``bg_seed`` (int), only with
      ``background_draws > 0`` (test-time background replacement): the draw
      ``d = 0..K-1`` of a copy (``-1`` for the clean image) and the seed of
      that draw, in ``[0, 2**32)``. Without them ``BGAugment`` augments the
      sample (training); ``DMLRetrievalMetric`` reads an absent ``bg_draw``
      as the clean set.

    With ``background_draws=K > 0`` the data list is the split's images,
    then ``K`` more copies of them in the same order: sample ``d * n + i``
    (``n`` images) is image ``i``, draw ``d - 1``. ``bg_seed`` is
    :func:`~clad_mm.utils.random_state.sample_seed` of
    ``(background_seed, bg_draw + 1, i)``: the same in every run, distinct
    between draws and images.

    ``metainfo['classes']`` holds the split's class names in label order and
    ``metainfo['class_ids']`` their official ids. Everything is checked at
    initialisation (files are listed, never decoded): every listed image
    and, with ``masks_root``, every mask must exist.

    Args:
        data_root (str): The release's root folder (see the subclass).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        val_classes (int): How many of the last training classes form
            ``'val'`` instead of ``'train'``. 0 means no carve-out, and
            ``'val'`` is then an error. Defaults to 0.
        masks_root (str, optional): Folder of foreground masks parallel to
            the images; a relative path is relative to ``data_root``. None
            means no masks. Defaults to None.
        background_draws (int): Number ``K`` of background-replaced copies
            of the split at test time. Defaults to 0.
        background_seed (int): Seed of the background draws, >= 0. Defaults
            to 0.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``test_mode``, ``lazy_init``, ``metainfo``, ``classes``,
            ``indices``, ``serialize_data``, ...). Configured class names
            must be as many as the split's classes.

    Raises:
        UserError: If ``split``, ``val_classes``, ``background_draws`` or
            ``background_seed`` is invalid (at construction), or, when the
            data is loaded, if an annotation file is malformed or an image
            or mask is missing; the message names the file.
        MissingFileError: If an annotation file is missing; the message
            names it and the expected layout.
    """

    #: Folder below ``data_root`` that record paths are relative to.
    IMAGE_DIR = ''

    def __init__(
        self,
        data_root: str,
        split: str,
        val_classes: int = 0,
        masks_root: str | None = None,
        background_draws: int = 0,
        background_seed: int = 0,
        pipeline=(),
        **kwargs,
    ):
        if split not in SPLITS:
            raise UserError(f'split must be one of {SPLITS}, got {split!r}')
        for name, value in (
            ('val_classes', val_classes),
            ('background_draws', background_draws),
            ('background_seed', background_seed),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UserError(f'{name} must be an integer >= 0, got {value!r}')
        if split == 'val' and val_classes == 0:
            raise UserError(
                "split='val' needs val_classes > 0 (the number of training "
                'classes to carve out for validation); got val_classes=0'
            )
        self.split = split
        self.val_classes = val_classes
        self.masks_root = masks_root
        self.background_draws = background_draws
        self.background_seed = background_seed
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_official_split(
        self, official_split: str
    ) -> tuple[list[RetrievalRecord], Sequence[int]]:
        """Reads the release's images of one official class split.

        Args:
            official_split (str): ``'train'`` or ``'test'``.

        Returns:
            tuple[list[RetrievalRecord], Sequence[int]]: The records (at
            least those of the split's classes, in the official listing's
            order) and the class ids of the split.
        """
        raise NotImplementedError

    def load_data_list(self) -> list[dict]:
        """Lists the split's images and checks that their files exist.

        Returns:
            list[dict]: One data info per image and background draw.
        """
        records, official_ids = self.load_official_split(_OFFICIAL_SPLITS[self.split])
        class_ids = self._split_class_ids(sorted(official_ids))
        label_of = {class_id: label for label, class_id in enumerate(class_ids)}
        records = sorted(
            (record for record in records if record.class_id in label_of),
            key=lambda record: record.class_id,
        )
        class_names = self._class_names(records, class_ids)

        image_root = osp.join(self.data_root, self.IMAGE_DIR)
        img_paths = [osp.join(image_root, record.relpath) for record in records]
        self._require_files(img_paths, 'images listed by the annotations')
        if self.masks_root is not None:
            masks_root = osp.join(self.data_root, self.masks_root)
            mask_paths = [
                osp.join(masks_root, osp.splitext(record.relpath)[0] + '.png')
                for record in records
            ]
            self._require_files(mask_paths, f'masks of images below {masks_root}')

        configured = self.CLASSES
        if configured is not None and len(configured) != len(class_names):
            raise UserError(
                f'{len(configured)} class names are configured but the '
                f'{self.split} split has {len(class_names)} classes'
            )
        self._metainfo.update(
            classes=tuple(configured or class_names), class_ids=tuple(class_ids)
        )

        data_list = []
        for bg_draw in range(-1, self.background_draws):
            for index, record in enumerate(records):
                info = dict(
                    img_path=img_paths[index],
                    gt_label=label_of[record.class_id],
                    class_id=record.class_id,
                )
                if self.background_draws:
                    # Without draws (training) the keys stay absent, so that
                    # BGAugment augments instead of passing a "clean copy".
                    info.update(
                        bg_draw=bg_draw,
                        bg_seed=sample_seed(self.background_seed, bg_draw + 1, index),
                    )
                if self.masks_root is not None:
                    info['mask_path'] = mask_paths[index]
                data_list.append(info)
        return data_list

    def prepare_data(self, idx: int):
        """Runs the pipeline on a sample, naming its image if it is bad.

        Args:
            idx (int): The sample's index.

        Returns:
            Any: The pipeline's output.
        """
        return prepare_or_name_bad_file(super().prepare_data, self.get_data_info, idx)

    def _split_class_ids(self, official_ids: list[int]) -> list[int]:
        if self.split == 'test' or self.val_classes == 0:
            return official_ids
        if self.val_classes >= len(official_ids):
            raise UserError(
                f'val_classes={self.val_classes} would leave no training '
                f'class: {self.data_root} has {len(official_ids)} training '
                'classes'
            )
        cut = len(official_ids) - self.val_classes
        return official_ids[cut:] if self.split == 'val' else official_ids[:cut]

    def _class_names(
        self, records: Sequence[RetrievalRecord], class_ids: Sequence[int]
    ) -> list[str]:
        names = {}
        for record in records:
            known = names.setdefault(record.class_id, record.class_name)
            if known != record.class_name:
                raise UserError(
                    f'Class {record.class_id} of {self.data_root} is named both '
                    f'{known!r} and {record.class_name!r}'
                )
        empty = [str(class_id) for class_id in class_ids if class_id not in names]
        if empty:
            raise UserError(
                f'{self.data_root}: classes of the {self.split} split without '
                f'an image, {name_examples(empty)}'
            )
        return [names[class_id] for class_id in class_ids]

    def _require_files(self, paths: Sequence[str], what: str) -> None:
        missing = [path for path in paths if not osp.isfile(path)]
        if missing:
            raise MissingFileError(
                f'Missing {what} of the {self.split} split, {name_examples(missing)}'
            )

    def extra_repr(self) -> list[str]:
        """The extra repr information of the dataset."""
        return [
            f'Data root: \t{self.data_root}',
            f'Split: \t{self.split} (val_classes={self.val_classes})',
            f'Masks root: \t{self.masks_root}',
            f'Background draws: \t{self.background_draws} '
            f'(seed {self.background_seed})',
        ]
