import os.path as osp
from collections.abc import Sequence

from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import UserError

from .class_disjoint_retrieval_dataset import (
    ClassDisjointRetrievalDataset,
    RetrievalRecord,
    read_annotation_table,
)

_CLASS_IDS = range(1, 201)
#: The retrieval split of deep metric learning: the first 100 classes train.
_SPLIT_CLASS_IDS = {'train': range(1, 101), 'test': range(101, 201)}
_LAYOUT = (
    'the CUB-200-2011 layout: data_root is the CUB_200_2011 folder holding '
    'images.txt, classes.txt, image_class_labels.txt and images/<class>/<file>'
)


@DATASETS.register_module()
class CUBRetrievalDataset(ClassDisjointRetrievalDataset):
    """CUB-200-2011 split by class for retrieval: classes 1-100 / 101-200.

    CUB-200-2011 (Wah et al., "The Caltech-UCSD Birds-200-2011 Dataset",
    Caltech CNS-TR-2011-001, https://www.vision.caltech.edu/datasets/cub_200_2011/)
    as deep metric learning splits it, and as BGAugment (Kobs & Hotho, "On
    Background Bias in Deep Metric Learning", ICMV 2022,
    https://arxiv.org/abs/2210.01615) uses it: the first 100 classes train,
    the other 100 test (the paper carves classes 76-100 out for validation:
    ``val_classes=25``). ``train_test_split.txt`` is the classification
    split, of images rather than classes, and is not read. Reads the
    official release::

        data_root/                         (CUB_200_2011)
        ├── images.txt                     <image id> <relative path>
        ├── classes.txt                    <class id> <class name>
        ├── image_class_labels.txt         <image id> <class id>
        └── images/001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg

    The separate segmentations release (``segmentations/<class>/<file>.png``,
    soft mattes) pairs with the images through ``masks_root='segmentations'``
    when it is unpacked into ``data_root``. Class names are those of
    ``classes.txt``, kept as they are (``001.Black_footed_Albatross``); the
    file must list exactly the ids 1-200. Data infos hold the keys of
    :class:`ClassDisjointRetrievalDataset`.

    Args:
        data_root (str): The ``CUB_200_2011`` folder.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        **kwargs: The other arguments of
            :class:`ClassDisjointRetrievalDataset` (``val_classes``,
            ``masks_root``, ``background_draws``, ``background_seed``,
            ``pipeline``, ...).
    """

    IMAGE_DIR = 'images'

    def load_official_split(
        self, official_split: str
    ) -> tuple[list[RetrievalRecord], Sequence[int]]:
        """Reads the images and classes of ``data_root``.

        Args:
            official_split (str): ``'train'`` or ``'test'``.

        Returns:
            tuple[list[RetrievalRecord], Sequence[int]]: Every image, in the
            order of ``images.txt``, and the split's class ids.

        Raises:
            UserError: Naming the file and line of a malformed or duplicate
                line, an image without a class or a class id not in
                ``classes.txt``.
        """
        classes_file = self._file('classes.txt')
        class_names = self._read_ids(
            classes_file, (('class id', int), ('class name', str))
        )
        if sorted(class_names) != list(_CLASS_IDS):
            raise UserError(
                f'{classes_file} lists {len(class_names)} class ids from '
                f'{min(class_names)} to {max(class_names)}; expected the ids '
                '1 to 200 of CUB-200-2011'
            )
        images_file = self._file('images.txt')
        relpaths = self._read_ids(
            images_file, (('image id', int), ('relative path', str))
        )
        labels_file = self._file('image_class_labels.txt')
        class_of = {}
        for number, (image_id, class_id) in read_annotation_table(
            labels_file, (('image id', int), ('class id', int)), _LAYOUT
        ):
            for kind, key, listed, listing in (
                ('image', image_id, relpaths, images_file),
                ('class', class_id, class_names, classes_file),
            ):
                if key not in listed:
                    raise UserError(
                        f'{labels_file}, line {number}: {kind} {key} is not '
                        f'listed in {listing}'
                    )
            if class_of.setdefault(image_id, class_id) != class_id:
                raise UserError(
                    f'{labels_file}, line {number}: image {image_id} has a second class'
                )
        unlabelled = [image_id for image_id in relpaths if image_id not in class_of]
        if unlabelled:
            raise UserError(
                f'{labels_file} gives no class to {len(unlabelled)} images of '
                f'{images_file}, e.g. image {unlabelled[0]}'
            )
        records = [
            RetrievalRecord(
                relpath, class_of[image_id], class_names[class_of[image_id]]
            )
            for image_id, relpath in relpaths.items()
        ]
        return records, _SPLIT_CLASS_IDS[official_split]

    def _file(self, name: str) -> str:
        return osp.join(self.data_root, name)

    @staticmethod
    def _read_ids(path: str, columns) -> dict[int, str]:
        values = {}
        for number, (key, value) in read_annotation_table(path, columns, _LAYOUT):
            if key in values:
                raise UserError(
                    f'{path}, line {number}: {columns[0][0]} {key} is listed twice'
                )
            values[key] = value
        return values
