"""Datasets of clad_mm (registered in ``mmpretrain.registry.DATASETS``)."""

from .bg_challenge_test_dataset import BGChallengeTestDataset
from .bg_challenge_train_dataset import BGChallengeTrainDataset
from .transforms import LoadBackgroundFromFile, LoadForegroundMask

__all__ = [
    'BGChallengeTestDataset',
    'BGChallengeTrainDataset',
    'LoadBackgroundFromFile',
    'LoadForegroundMask',
]
