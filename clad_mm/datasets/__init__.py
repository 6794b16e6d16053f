"""Datasets of clad_mm (registered in ``mmpretrain.registry.DATASETS``).

The Background Challenge datasets (IN-9) classify; the class-disjoint
retrieval datasets (CUB-200-2011, Cars196, Stanford Online Products, on
:class:`ClassDisjointRetrievalDataset`) serve deep metric learning; the
group-labelled datasets (Waterbirds, CelebA and a user's CSV, on
:class:`GroupLabelledDataset`) serve group-robustness evaluation.

Besides the registered datasets, transforms and ``SeededSampler`` (with
``SeededSampleDatasetMixin``, the datasets' per-sample seeding):
:mod:`.folder_layout` (the folder trees they read) and :mod:`.categories`
(the IN-9 class list and the ImageNet-1k -> IN-9 map). The offline builders
that write those trees live in :mod:`clad_mm.data_prep`, which nothing here
imports.
"""

from .bg_challenge_test_dataset import BGChallengeTestDataset
from .bg_challenge_train_dataset import BGChallengeTrainDataset
from .cars196_retrieval_dataset import Cars196RetrievalDataset
from .celeba_dataset import CelebADataset
from .class_disjoint_retrieval_dataset import ClassDisjointRetrievalDataset
from .cub_retrieval_dataset import CUBRetrievalDataset
from .group_csv_dataset import GroupCSVDataset
from .group_dataset import GroupLabelledDataset
from .samplers import SeededSampler
from .seeded_sample_dataset import SeededIndex, SeededSampleDatasetMixin
from .sop_retrieval_dataset import SOPRetrievalDataset
from .transforms import LoadBackgroundFromFile, LoadForegroundMask
from .waterbirds_dataset import WaterbirdsDataset

__all__ = [
    'BGChallengeTestDataset',
    'BGChallengeTrainDataset',
    'CUBRetrievalDataset',
    'Cars196RetrievalDataset',
    'CelebADataset',
    'ClassDisjointRetrievalDataset',
    'GroupCSVDataset',
    'GroupLabelledDataset',
    'LoadBackgroundFromFile',
    'LoadForegroundMask',
    'SOPRetrievalDataset',
    'SeededIndex',
    'SeededSampleDatasetMixin',
    'SeededSampler',
    'WaterbirdsDataset',
]
