import os.path as osp

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import MissingFileError, UserError

from .folder_layout import (
    IMAGE_EXTENSIONS,
    MASK_EXTENSIONS,
    class_metainfo,
    list_class_folders,
    list_stems,
    require_counterparts,
    require_dir,
    require_same_class_folders,
)
from .sample_diagnosis import prepare_or_name_bad_file
from .seeded_sample_dataset import SeededSampleDatasetMixin

_MASK_SOURCES = {'fg_mask': 'mask', 'fg_grabcut': 'grabcut'}


@DATASETS.register_module()
class BGChallengeTrainDataset(SeededSampleDatasetMixin, BaseDataset):
    """ImageNet-9 training images with their foregrounds and backgrounds.

    Reads the layout of CLAD's released training data, which the SynBG
    generator writes too::

        data_root/
        ├── original/train/00_dog/n02085620_10074.JPEG
        ├── fg_mask/train/00_dog/n02085620_10074.png   (or .npy), or
        ├── fg_grabcut/train/00_dog/n02085620_10074.JPEG
        └── only_bg_t/train/00_dog/n02085620_10074.JPEG

    The folders must correspond file for file: the same class folders, and
    in each the same file stems (extensions may differ; ``.JPEG``, ``.jpg``,
    ``.jpeg`` and ``.png`` are images, ``.png`` and ``.npy`` masks). Any
    mismatch, empty class folder or unexpected file is an error: a sample
    is never dropped silently. Classes are the sorted class folders; their
    names drop the ``NN_`` index prefix (``02_wheeled vehicle`` is class 2,
    ``'wheeled vehicle'``), and ``metainfo['class_folders']`` keeps the
    folder names. Files are listed, never decoded, at initialisation.

    Each data info holds ``img_path``, ``gt_label`` (int), ``fg_mask_path``,
    ``fg_mask_source`` (``'mask'`` for a binary mask, ``'grabcut'`` for an
    object on black, both read by ``LoadForegroundMask``), the dataset's
    ``data_root`` and ``split`` (from which ``BackgroundSwap``,
    ``TextureSwap`` and ``LoadStyleImage`` find their default donor folders,
    so that an overridden ``data_root`` moves the donors too) and, unless
    ``background_dir`` is None, ``bg_path`` (read by
    ``LoadBackgroundFromFile``).

    Args:
        data_root (str): Root folder holding the folders above.
        split (str): Sub-folder of every folder to read. Defaults to
            ``'train'``.
        image_dir (str): Folder of the images to classify. Defaults to
            ``'original'``.
        mask_dir (str, optional): ``'fg_mask'`` (binary masks) or
            ``'fg_grabcut'`` (segmented objects on black). None picks
            ``fg_mask`` if ``<data_root>/fg_mask/<split>`` exists, else
            ``fg_grabcut``. Defaults to None.
        background_dir (str, optional): Folder of each image's background
            with the object box filled in. None means no backgrounds, as for
            plain cross-entropy training. Defaults to ``'only_bg_t'``.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``metainfo``, ``classes``, ``indices``, ``serialize_data``,
            ``test_mode``, ``lazy_init``, ...). Configured class names must
            be as many as the class folders.

    Raises:
        FileNotFoundError: If a required folder is missing or a class folder
            is empty; the message names the path.
        ValueError: If the folders do not correspond (different class
            folders, or stems missing from one of them), or ``mask_dir`` is
            unknown.
    """

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        image_dir: str = 'original',
        mask_dir: str | None = None,
        background_dir: str | None = 'only_bg_t',
        pipeline=(),
        **kwargs,
    ):
        if mask_dir is not None and mask_dir not in _MASK_SOURCES:
            raise UserError(
                f'mask_dir must be one of {sorted(_MASK_SOURCES)} or None, '
                f'got {mask_dir!r}'
            )
        self.split = split
        self.image_dir = image_dir
        self.mask_dir = mask_dir
        self.background_dir = background_dir
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Lists the samples and checks that the folders correspond.

        Returns:
            list[dict]: One data info per image, class by class, in sorted
            stem order.
        """
        require_dir(
            self.data_root,
            'a training data root holding original/, fg_mask/ or fg_grabcut/ '
            'and only_bg_t/ folders',
        )
        image_parent = self._folder(self.image_dir)
        require_dir(image_parent, '<class>/<stem>.<ext> training images')
        mask_dir = self.mask_dir or self._find_mask_dir()
        mask_source = _MASK_SOURCES[mask_dir]
        mask_parent = self._folder(mask_dir)
        require_dir(mask_parent, f'<class>/<stem>.<ext> files of {mask_dir}')
        parents = {image_parent: IMAGE_EXTENSIONS}
        parents[mask_parent] = (
            MASK_EXTENSIONS if mask_source == 'mask' else IMAGE_EXTENSIONS
        )
        if self.background_dir is not None:
            bg_parent = self._folder(self.background_dir)
            require_dir(bg_parent, '<class>/<stem>.<ext> background images')
            parents[bg_parent] = IMAGE_EXTENSIONS

        others = [parent for parent in parents if parent != image_parent]
        folders = list_class_folders(image_parent)
        for parent in others:
            require_same_class_folders(
                image_parent, folders, parent, list_class_folders(parent)
            )
        files = {
            parent: {
                folder: list_stems(osp.join(parent, folder), extensions)
                for folder in folders
            }
            for parent, extensions in parents.items()
        }
        for parent in others:
            require_counterparts(
                files[image_parent], image_parent, files[parent], parent
            )
            require_counterparts(
                files[parent], parent, files[image_parent], image_parent
            )
        self._metainfo.update(class_metainfo(folders, self.CLASSES))

        data_list = []
        for label, folder in enumerate(folders):
            for stem in sorted(files[image_parent][folder]):
                paths = {
                    parent: osp.join(parent, folder, files[parent][folder][stem])
                    for parent in parents
                }
                info = dict(
                    img_path=paths[image_parent],
                    gt_label=label,
                    fg_mask_path=paths[mask_parent],
                    fg_mask_source=mask_source,
                    data_root=self.data_root,
                    split=self.split,
                )
                if self.background_dir is not None:
                    info['bg_path'] = paths[bg_parent]
                data_list.append(info)
        return data_list

    def prepare_data(self, idx: int):
        """Runs the pipeline on a sample, naming its file if one is bad.

        Args:
            idx (int): The sample's index.

        Returns:
            Any: The pipeline's output.

        Raises:
            UserError: Naming the sample's image, mask or background when it is
                missing or cannot be decoded (empty, truncated, not an
                image), instead of OpenCV's error without a path.
        """
        return prepare_or_name_bad_file(super().prepare_data, self.get_data_info, idx)

    def _folder(self, name: str) -> str:
        return osp.join(self.data_root, name, self.split)

    def _find_mask_dir(self) -> str:
        for mask_dir in _MASK_SOURCES:
            if osp.isdir(self._folder(mask_dir)):
                return mask_dir
        raise MissingFileError(
            'No foreground folder found: expected '
            + ' or '.join(self._folder(mask_dir) for mask_dir in _MASK_SOURCES)
        )

    def extra_repr(self) -> list[str]:
        """The extra repr information of the dataset."""
        return [
            f'Data root: \t{self.data_root}',
            f'Split: \t{self.split}',
            f'Folders: \t{self.image_dir}, {self.mask_dir or "auto"}, '
            f'{self.background_dir}',
        ]
