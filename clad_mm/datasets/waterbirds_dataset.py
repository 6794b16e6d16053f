import os.path as osp

from mmpretrain.registry import DATASETS

from .group_dataset import (
    GroupAnnotation,
    GroupLabelledDataset,
    GroupRecord,
    crossed_group,
    crossed_group_names,
    parse_choice,
    read_csv_table,
)

_METADATA = 'metadata.csv'
_COLUMNS = ('img_filename', 'y', 'split', 'place')
_LAYOUT = (
    'the Waterbirds layout: data_root is the '
    'waterbird_complete95_forest2water2 folder holding metadata.csv (header '
    'img_id,img_filename,y,split,place,place_filename) and '
    '<NNN.Species>/<image>.jpg'
)
_CLASSES = ('landbird', 'waterbird')
_PLACES = ('land', 'water')
_BINARY = {'0': 0, '1': 1}
_SPLIT_CODES = {'0': 'train', '1': 'val', '2': 'test'}


@DATASETS.register_module()
class WaterbirdsDataset(GroupLabelledDataset):
    """Waterbirds: bird type against the place of the background.

    Waterbirds (Sagawa et al., "Distributionally Robust Neural Networks for
    Group Shifts", ICLR 2020, https://arxiv.org/abs/1911.08731) pastes
    CUB-200-2011 birds onto Places backgrounds; in training 95 % of the
    birds stand on the place of their type. A group-robustness benchmark of
    ClusterFix (Capitani et al., WACV 2024). Reads the official release::

        data_root/                    (waterbird_complete95_forest2water2)
        ├── metadata.csv              img_id,img_filename,y,split,place,
        │                             place_filename
        └── 001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg

    ``img_filename`` is relative to ``data_root``; ``y`` is the class (0
    landbird, 1 waterbird), ``split`` the split (0 train, 1 val, 2 test) and
    ``place`` the bias attribute (0 land, 1 water); other columns are
    ignored. Classes are ``('landbird', 'waterbird')``; the group is
    ``2 * y + place``, named ``('landbird on land', 'landbird on water',
    'waterbird on land', 'waterbird on water')``. Data infos and metainfo
    hold the keys of :class:`GroupLabelledDataset`.

    Args:
        data_root (str): The ``waterbird_complete95_forest2water2`` folder.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        **kwargs: The other arguments of :class:`GroupLabelledDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    def load_annotation(self) -> GroupAnnotation:
        """Reads ``metadata.csv``.

        Returns:
            GroupAnnotation: Every image of the release.

        Raises:
            MissingFileError: If ``metadata.csv`` is missing.
            UserError: Naming the file and the columns its header lacks, or
                the file and line of a malformed row or value.
        """
        path = osp.join(self.data_root, _METADATA)
        records = []
        for line, (filename, y, split, place) in read_csv_table(
            path, _COLUMNS, _LAYOUT
        ):
            label = parse_choice(path, line, 'y', y, _BINARY)
            bias = parse_choice(path, line, 'place', place, _BINARY)
            records.append(
                GroupRecord(
                    path=filename,
                    label=label,
                    group=crossed_group(label, bias, len(_PLACES)),
                    split=parse_choice(path, line, 'split', split, _SPLIT_CODES),
                )
            )
        return GroupAnnotation(
            records=records,
            classes=_CLASSES,
            group_names=crossed_group_names(_CLASSES, _PLACES, ' on '),
            source=path,
        )
