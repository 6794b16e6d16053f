import os.path as osp
from collections.abc import Sequence

from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import UserError

from .class_disjoint_retrieval_dataset import (
    ClassDisjointRetrievalDataset,
    RetrievalRecord,
    name_examples,
    read_annotation_table,
)

_FILES = {'train': 'Ebay_train.txt', 'test': 'Ebay_test.txt'}
_HEADER = 'image_id class_id super_class_id path'
_COLUMNS = (
    ('image id', int),
    ('class id', int),
    ('super class id', int),
    ('path', str),
)
_LAYOUT = (
    'the Stanford Online Products layout: data_root is the '
    'Stanford_Online_Products folder holding Ebay_train.txt, Ebay_test.txt '
    'and <super class>_final/<image>.JPG'
)


@DATASETS.register_module()
class SOPRetrievalDataset(ClassDisjointRetrievalDataset):
    """Stanford Online Products, the official class-disjoint retrieval split.

    Stanford Online Products (Oh Song et al., "Deep Metric Learning via
    Lifted Structured Feature Embedding", CVPR 2016,
    https://cvgl.stanford.edu/projects/lifted_struct/), as BGAugment (Kobs &
    Hotho, "On Background Bias in Deep Metric Learning", ICMV 2022,
    https://arxiv.org/abs/2210.01615) uses it: ``Ebay_train.txt`` (11 318
    classes, 59 551 images) trains and ``Ebay_test.txt`` (11 316 classes,
    60 502 images) tests; the two must share no class id. Reads the
    official release::

        data_root/                    (Stanford_Online_Products)
        ├── Ebay_train.txt            image_id class_id super_class_id path
        ├── Ebay_test.txt             (same header; 1-based ids)
        └── bicycle_final/111085122871_0.JPG

    Paths are relative to ``data_root``. A class is named after its super
    class folder and id, ``bicycle_final/1``. The release has no validation
    file: ``val_classes`` carves out the last training class ids. Data infos
    hold the keys of :class:`ClassDisjointRetrievalDataset`.

    Args:
        data_root (str): The ``Stanford_Online_Products`` folder.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        **kwargs: The other arguments of
            :class:`ClassDisjointRetrievalDataset` (``val_classes``,
            ``masks_root``, ``background_draws``, ``background_seed``,
            ``pipeline``, ...).
    """

    def load_official_split(
        self, official_split: str
    ) -> tuple[list[RetrievalRecord], Sequence[int]]:
        """Reads the split's ``Ebay_*.txt`` file.

        Args:
            official_split (str): ``'train'`` or ``'test'``.

        Returns:
            tuple[list[RetrievalRecord], Sequence[int]]: The file's images in
            its order, and the class ids it lists.

        Raises:
            UserError: Naming the file and line of a wrong header, a
                malformed line or a path without a super class folder, or
                naming both files if they share class ids.
        """
        class_ids = {}
        records = []
        for split, name in _FILES.items():
            path = osp.join(self.data_root, name)
            rows = read_annotation_table(path, _COLUMNS, _LAYOUT, header=_HEADER)
            class_ids[split] = {row[1] for _, row in rows}
            if split != official_split:
                continue
            for number, (_, class_id, _, relpath) in rows:
                super_class = relpath.split('/')[0]
                if super_class == relpath:
                    raise UserError(
                        f'{path}, line {number}: the path {relpath!r} has no '
                        'super class folder; expected e.g. '
                        'bicycle_final/111085122871_0.JPG'
                    )
                records.append(
                    RetrievalRecord(relpath, class_id, f'{super_class}/{class_id}')
                )
        shared = sorted(class_ids['train'] & class_ids['test'])
        if shared:
            raise UserError(
                f'{_FILES["train"]} and {_FILES["test"]} of {self.data_root} '
                f'share class ids, {name_examples([str(i) for i in shared])}; '
                'the retrieval split must be class-disjoint'
            )
        return records, sorted(class_ids[official_split])
