"""Datasets of clad_mm (registered in ``mmpretrain.registry.DATASETS``).

Besides the registered datasets, transforms and ``SeededSampler`` (with
``SeededSampleDatasetMixin``, the datasets' per-sample seeding):
:mod:`.folder_layout` (the folder trees they read) and :mod:`.categories`
(the IN-9 class list and the ImageNet-1k -> IN-9 map). The offline builders
that write those trees live in :mod:`clad_mm.data_prep`, which nothing here
imports.
"""

from .bg_challenge_test_dataset import BGChallengeTestDataset
from .bg_challenge_train_dataset import BGChallengeTrainDataset
from .samplers import SeededSampler
from .seeded_sample_dataset import SeededIndex, SeededSampleDatasetMixin
from .transforms import LoadBackgroundFromFile, LoadForegroundMask

__all__ = [
    'BGChallengeTestDataset',
    'BGChallengeTrainDataset',
    'LoadBackgroundFromFile',
    'LoadForegroundMask',
    'SeededIndex',
    'SeededSampleDatasetMixin',
    'SeededSampler',
]
