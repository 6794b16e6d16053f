import logging
import os.path as osp
from collections.abc import Sequence

from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import MissingFileError, UserError

from .folder_layout import (
    BG_CHALLENGE_SPLITS,
    BG_GAP_SPLITS,
    IMAGE_EXTENSIONS,
    KNOWN_TEST_SPLITS,
    class_metainfo,
    list_class_folders,
    list_stems,
    require_counterparts,
    require_dir,
    require_same_class_folders,
)
from .sample_diagnosis import prepare_or_name_bad_file
from .seeded_sample_dataset import SeededSampleDatasetMixin


@DATASETS.register_module()
class BGChallengeTestDataset(SeededSampleDatasetMixin, BaseDataset):
    """Several Background Challenge test splits as one dataset.

    Reads the layout of the official release (``bg_challenge/``), which is
    also the one below CLAD's ``datasets/test_set/`` and SynBG's
    ``data/synbg/test_set/``::

        data_root/
        ├── original/val/00_dog/n02085620_10074.JPEG
        ├── mixed_rand/val/00_dog/...
        ├── ...                                      (one folder per split)
        ├── stylized/val/00_dog/...                  (texture splits, S-CLAD)
        └── fg_mask/val/00_dog/n02085620_10074.npy   (for with_fg_mask=True)

    Samples come split by split, class by class, in sorted stem order, and
    each data info holds ``img_path``, ``gt_label`` (int), ``split`` (the
    split's name) and, with ``with_fg_mask=True``, ``fg_mask_path`` with
    ``fg_mask_source='mask'`` (read by ``LoadForegroundMask``). Every split
    must hold the same class folders; classes are named as in
    :class:`BGChallengeTrainDataset`. ``metainfo['splits']`` (also
    :attr:`split_names`) gives the split names in sample order, so that a
    metric receiving the dataset meta can report the splits in that order.

    The same layout holds the texture-bias test splits of S-CLAD (CLAD, BMVC
    2022, Table 7): ``stylized`` (Stylized IN-9, made by
    ``tools/data/make_stylized_in9.py``) and ``sketch`` (IN-9-Sketch, made by
    ``tools/data/prepare_in9_sketch.py``) beside the IN-9 ``original``, and
    the SynBG texture variant's ``random_texture``, ``outline`` and
    ``only_texture``. :attr:`SPLITS` lists every known split, the
    Background Challenge's first.

    The ``split`` tag only reaches the predictions if the pipeline packs it
    as meta information; end the pipeline with::

        dict(type='PackInputs',
             meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                        'scale_factor', 'flip', 'flip_direction', 'split'))

    (``PackInputs.DEFAULT_META_KEYS`` plus ``'split'``); every data sample
    then carries ``data_sample.split``, and the dict a metric's ``process``
    receives has a ``'split'`` key.

    Args:
        data_root (str): Folder holding one folder per split.
        splits (Sequence[str], optional): Splits to read, in this order;
            each must exist. None reads every split of :attr:`SPLITS` found
            under ``data_root``, in the order of :attr:`SPLITS`. Defaults to
            None.
        subset (str): Sub-folder of each split to read. Defaults to
            ``'val'``.
        with_fg_mask (bool): Whether to attach each image's foreground mask
            ``fg_mask/<subset>/<class>/<stem>.npy``; every image must have
            one. The release's masks are named like the ``original`` images.
            Defaults to False.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``metainfo``, ``classes``, ``indices``, ``serialize_data``,
            ``test_mode``, ``lazy_init``, ...).

    Raises:
        FileNotFoundError: If ``data_root``, a requested split, a mask or a
            class folder's files are missing; the message names the path.
        ValueError: If splits hold different class folders or ``splits``
            names a split twice.
    """

    SPLITS = KNOWN_TEST_SPLITS

    def __init__(
        self,
        data_root: str,
        splits: Sequence[str] | None = None,
        subset: str = 'val',
        with_fg_mask: bool = False,
        pipeline=(),
        **kwargs,
    ):
        if splits is not None and len(set(splits)) != len(splits):
            raise UserError(f'splits names a split twice: {list(splits)}')
        self.splits = None if splits is None else tuple(splits)
        self.subset = subset
        self.with_fg_mask = with_fg_mask
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    @property
    def split_names(self) -> tuple[str, ...]:
        """Names of the splits held, in sample order.

        Reading it initialises a dataset built with ``lazy_init=True``.
        """
        self.full_init()
        return self._metainfo['splits']

    def load_data_list(self) -> list[dict]:
        """Lists the samples of every split.

        Returns:
            list[dict]: One data info per image.
        """
        require_dir(
            self.data_root,
            'a Background Challenge test set root holding one folder per split',
        )
        splits = self.splits or self._find_splits()
        parents = {split: self._folder(split) for split in splits}
        for split, parent in parents.items():
            if not osp.isdir(parent):
                raise MissingFileError(
                    f'Split {split!r} is not in the test set {self.data_root}: '
                    f'{parent} does not exist or is not a folder; splits '
                    f'found there: {list(self._present_splits()) or "none"}'
                )
        first_parent = parents[splits[0]]
        folders = list_class_folders(first_parent)
        for parent in parents.values():
            require_same_class_folders(
                first_parent, folders, parent, list_class_folders(parent)
            )
        if self.with_fg_mask:
            mask_parent = self._folder('fg_mask')
            require_dir(mask_parent, '<class>/<stem>.npy foreground masks')
            masks = {
                folder: list_stems(osp.join(mask_parent, folder), ('.npy',))
                for folder in folders
            }
        self._metainfo.update(class_metainfo(folders, self.CLASSES))
        self._metainfo['splits'] = splits
        if self.splits is None:
            self._warn_without_bg_gap(splits)

        data_list = []
        for split, parent in parents.items():
            files = {
                folder: list_stems(osp.join(parent, folder), IMAGE_EXTENSIONS)
                for folder in folders
            }
            if self.with_fg_mask:
                require_counterparts(files, parent, masks, mask_parent)
            for label, folder in enumerate(folders):
                for stem in sorted(files[folder]):
                    info = dict(
                        img_path=osp.join(parent, folder, files[folder][stem]),
                        gt_label=label,
                        split=split,
                    )
                    if self.with_fg_mask:
                        info['fg_mask_path'] = osp.join(
                            mask_parent, folder, masks[folder][stem]
                        )
                        info['fg_mask_source'] = 'mask'
                    data_list.append(info)
        return data_list

    def prepare_data(self, idx: int):
        """Runs the pipeline on a sample, naming its file if one is bad.

        Args:
            idx (int): The sample's index.

        Returns:
            Any: The pipeline's output.

        Raises:
            UserError: Naming the sample's image or mask when it is
                missing or cannot be decoded (empty, truncated, not an
                image), instead of OpenCV's error without a path.
        """
        return prepare_or_name_bad_file(super().prepare_data, self.get_data_info, idx)

    def _warn_without_bg_gap(self, splits: Sequence[str]) -> None:
        """Warns when a found background test set lacks a split of BG-GAP.

        Only for splits found under ``data_root``: named ``splits`` are the
        user's choice.
        """
        background_splits = set(splits) & set(BG_CHALLENGE_SPLITS) - {'original'}
        missing = [split for split in BG_GAP_SPLITS if split not in splits]
        if background_splits and missing:
            print_log(
                f'The test set {self.data_root} has no '
                + ' and no '.join(self._folder(split) for split in missing)
                + ': BG-GAP (mixed_same - mixed_rand) is not reported',
                logger='current',
                level=logging.WARNING,
            )

    def _folder(self, name: str) -> str:
        return osp.join(self.data_root, name, self.subset)

    def _present_splits(self) -> tuple[str, ...]:
        return tuple(split for split in self.SPLITS if osp.isdir(self._folder(split)))

    def _find_splits(self) -> tuple[str, ...]:
        splits = self._present_splits()
        if not splits:
            raise MissingFileError(
                f'No test split found under {self.data_root}: looked for '
                + ', '.join(self._folder(split) for split in self.SPLITS)
            )
        return splits

    def extra_repr(self) -> list[str]:
        """The extra repr information of the dataset."""
        return [
            f'Data root: \t{self.data_root}',
            f'Splits: \t{self.splits or "all found"}',
            f'Subset: \t{self.subset}',
        ]
