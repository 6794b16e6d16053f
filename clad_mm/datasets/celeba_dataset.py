import os.path as osp
from collections.abc import Collection, Sequence

from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import MissingFileError, UserError

from .class_disjoint_retrieval_dataset import (
    name_examples,
    read_annotation_table,
    require_annotation_file,
)
from .group_dataset import (
    GroupAnnotation,
    GroupLabelledDataset,
    GroupRecord,
    crossed_group,
    crossed_group_names,
    parse_choice,
    read_csv_header,
    read_csv_table,
)

ANNOTATION_FORMATS = ('auto', 'txt', 'csv')
_ATTRIBUTE_FILES = {'txt': 'list_attr_celeba.txt', 'csv': 'list_attr_celeba.csv'}
_PARTITION_FILES = {
    'txt': 'list_eval_partition.txt',
    'csv': 'list_eval_partition.csv',
}
_LAYOUTS = {
    'txt': (
        'the official CelebA layout: data_root holding list_attr_celeba.txt '
        '(the image count, the 40 attribute names, then "<image> ±1 ... ±1" '
        'rows), list_eval_partition.txt ("<image> 0|1|2" rows) and the image '
        'folder'
    ),
    'csv': (
        'the CSV copy of CelebA: data_root holding list_attr_celeba.csv '
        '(header image_id,<40 attribute names>), list_eval_partition.csv '
        '(header image_id,partition) and the image folder'
    ),
}
_IMAGE_COLUMN = 'image_id'
_PARTITION_COLUMN = 'partition'
#: -1 (the official files) and 0 (some copies) both mean "absent".
_ATTRIBUTE_VALUES = {'-1': 0, '0': 0, '1': 1}
_PARTITIONS = {'0': 'train', '1': 'val', '2': 'test'}


@DATASETS.register_module()
class CelebADataset(GroupLabelledDataset):
    """CelebA faces: one binary attribute against another as the bias.

    CelebA (Liu et al., "Deep Learning Face Attributes in the Wild", ICCV
    2015, https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html) labels 202 599
    faces with 40 binary attributes. The group-robustness benchmark
    (Sagawa et al., ICLR 2020, https://arxiv.org/abs/1911.08731; ClusterFix,
    Capitani et al., WACV 2024) classifies ``Blond_Hair`` with ``Male`` as
    the bias. Reads the official release, or the widely used CSV copies::

        data_root/
        ├── img_align_celeba/000001.jpg        (image_dir)
        ├── list_attr_celeba.txt     202599 / the 40 names / "<image> ±1 ..."
        ├── list_eval_partition.txt  "<image> 0|1|2" (train / val / test)
        ├── list_attr_celeba.csv     image_id,<40 names>   (the CSV copy)
        └── list_eval_partition.csv  image_id,partition    (the CSV copy)

    Attribute values are -1 or 1 (0 is read as -1, as some copies write);
    values may be separated by several spaces. Only the two attributes used
    are converted. Images come in the attribute file's order; the two files
    must list the same images. The label is the target attribute (0 absent,
    1 present), with classes ``('not <target>', '<target>')``; the group is
    ``2 * label + bias``, named ``'<target value>, <bias value>'`` where a
    value is the attribute's name or ``'not '`` and its name: with the
    defaults, ``('not Blond_Hair, not Male', 'not Blond_Hair, Male',
    'Blond_Hair, not Male', 'Blond_Hair, Male')``. Data infos and metainfo
    hold the keys of :class:`GroupLabelledDataset`.

    Args:
        data_root (str): The folder holding the annotation files.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        target_attribute (str): The attribute to classify. Defaults to
            ``'Blond_Hair'``.
        bias_attribute (str): The attribute that forms the groups. Defaults
            to ``'Male'``.
        annotation_format (str): ``'txt'`` (the official files), ``'csv'``
            (the CSV copies) or ``'auto'``: the txt files if
            ``list_attr_celeba.txt`` exists, else the CSV copies. Defaults
            to ``'auto'``.
        image_dir (str): The image folder, relative to ``data_root``.
            Defaults to ``'img_align_celeba'``.
        **kwargs: The other arguments of :class:`GroupLabelledDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).

    Raises:
        UserError: If ``annotation_format`` is unknown or the two attributes
            are the same (at construction), or, when the data is loaded, if
            an attribute is not in the attribute file (the message lists
            those it has) or a file is malformed (the message names the file
            and line).
        MissingFileError: If an annotation file or an image is missing.
    """

    def __init__(
        self,
        data_root: str,
        split: str,
        target_attribute: str = 'Blond_Hair',
        bias_attribute: str = 'Male',
        annotation_format: str = 'auto',
        image_dir: str = 'img_align_celeba',
        **kwargs,
    ):
        if annotation_format not in ANNOTATION_FORMATS:
            raise UserError(
                f'annotation_format must be one of {ANNOTATION_FORMATS}, got '
                f'{annotation_format!r}'
            )
        if target_attribute == bias_attribute:
            raise UserError(
                f'target_attribute and bias_attribute are both '
                f'{target_attribute!r}; the bias must be another attribute'
            )
        self.target_attribute = target_attribute
        self.bias_attribute = bias_attribute
        self.annotation_format = annotation_format
        self.image_dir = image_dir
        super().__init__(data_root, split, **kwargs)

    def load_annotation(self) -> GroupAnnotation:
        """Reads the attribute and partition files of the chosen format.

        Returns:
            GroupAnnotation: Every image of the release.
        """
        annotation_format = self._resolve_format()
        attribute_path = osp.join(self.data_root, _ATTRIBUTE_FILES[annotation_format])
        partition_path = osp.join(self.data_root, _PARTITION_FILES[annotation_format])
        if annotation_format == 'txt':
            attribute_rows = self._read_txt_attributes(attribute_path)
            partition_rows = read_annotation_table(
                partition_path,
                (('image', str), (_PARTITION_COLUMN, str)),
                _LAYOUTS['txt'],
            )
        else:
            attribute_rows = self._read_csv_attributes(attribute_path)
            partition_rows = read_csv_table(
                partition_path, (_IMAGE_COLUMN, _PARTITION_COLUMN), _LAYOUTS['csv']
            )
        splits = {}
        for line, (image, partition) in partition_rows:
            splits[image] = parse_choice(
                partition_path, line, _PARTITION_COLUMN, partition, _PARTITIONS
            )

        _require_same_images(
            attribute_path,
            [image for _, (image, _, _) in attribute_rows],
            partition_path,
            splits,
        )
        classes = (f'not {self.target_attribute}', self.target_attribute)
        bias_names = (f'not {self.bias_attribute}', self.bias_attribute)
        records = []
        for line, (image, target, bias) in attribute_rows:
            label = parse_choice(
                attribute_path,
                line,
                f'{self.target_attribute} value',
                target,
                _ATTRIBUTE_VALUES,
            )
            bias_value = parse_choice(
                attribute_path,
                line,
                f'{self.bias_attribute} value',
                bias,
                _ATTRIBUTE_VALUES,
            )
            records.append(
                GroupRecord(
                    path=osp.join(self.image_dir, image),
                    label=label,
                    group=crossed_group(label, bias_value, len(bias_names)),
                    split=splits[image],
                )
            )
        return GroupAnnotation(
            records=records,
            classes=classes,
            group_names=crossed_group_names(classes, bias_names, ', '),
            source=f'{attribute_path} and {partition_path}',
        )

    def _resolve_format(self) -> str:
        if self.annotation_format != 'auto':
            return self.annotation_format
        for annotation_format in ('txt', 'csv'):
            path = osp.join(self.data_root, _ATTRIBUTE_FILES[annotation_format])
            if osp.isfile(path):
                return annotation_format
        raise MissingFileError(
            f'Neither {_ATTRIBUTE_FILES["txt"]} nor {_ATTRIBUTE_FILES["csv"]} '
            f'exists in {self.data_root}; expected {_LAYOUTS["txt"]}, or '
            f'{_LAYOUTS["csv"]}'
        )

    def _read_txt_attributes(self, path: str) -> list[tuple[int, tuple[str, ...]]]:
        """``(line, (image, target value, bias value))`` per image row."""
        require_annotation_file(path, _LAYOUTS['txt'])
        with open(path, encoding='utf-8') as file:
            lines = file.read().splitlines()
        count = lines[0].strip() if lines else ''
        if not count.isdigit():
            raise UserError(
                f'{path}, line 1: expected the number of images, got {count!r}'
            )
        names = lines[1].split() if len(lines) > 1 else []
        self._require_attributes(path, names)
        target = names.index(self.target_attribute)
        bias = names.index(self.bias_attribute)
        rows = []
        for number, line in enumerate(lines[2:], start=3):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != len(names) + 1:
                raise UserError(
                    f'{path}, line {number}: expected an image and '
                    f'{len(names)} attribute values, got {line!r}'
                )
            rows.append((number, (fields[0], fields[1 + target], fields[1 + bias])))
        if len(rows) != int(count):
            raise UserError(
                f'{path}: line 1 gives {int(count)} images but {len(rows)} rows follow'
            )
        return rows

    def _read_csv_attributes(self, path: str) -> list[tuple[int, tuple[str, ...]]]:
        """``(line, (image, target value, bias value))`` per image row."""
        header = read_csv_header(path, _LAYOUTS['csv'])
        self._require_attributes(
            path, [name for name in header if name != _IMAGE_COLUMN]
        )
        return read_csv_table(
            path,
            (_IMAGE_COLUMN, self.target_attribute, self.bias_attribute),
            _LAYOUTS['csv'],
        )

    def _require_attributes(self, path: str, names: Sequence[str]) -> None:
        """Raises unless the target and bias attributes are among ``names``."""
        for role, attribute in (
            ('target_attribute', self.target_attribute),
            ('bias_attribute', self.bias_attribute),
        ):
            if attribute not in names:
                raise UserError(
                    f'{role} {attribute!r} is not an attribute of {path}; its '
                    f'{len(names)} attributes are {", ".join(names)}'
                )


def _require_same_images(
    attribute_path: str,
    attribute_images: Sequence[str],
    partition_path: str,
    partition_images: Collection[str],
) -> None:
    """Raises unless the attribute and partition files list the same images."""
    listed = set(attribute_images)
    for path, other, missing in (
        (
            partition_path,
            attribute_path,
            [image for image in attribute_images if image not in partition_images],
        ),
        (
            attribute_path,
            partition_path,
            [image for image in partition_images if image not in listed],
        ),
    ):
        if missing:
            raise UserError(
                f'{path} lacks images that {other} lists, {name_examples(missing)}'
            )
