import os.path as osp
from collections.abc import Sequence

import numpy as np
import scipy.io
from mmpretrain.registry import DATASETS

from clad_mm.utils.errors import MissingFileError, UserError

from .class_disjoint_retrieval_dataset import (
    ClassDisjointRetrievalDataset,
    RetrievalRecord,
    require_annotation_file,
)

_NUM_CLASSES = 196
#: The retrieval split of deep metric learning: the first 98 classes train.
_SPLIT_CLASS_IDS = {'train': range(1, 99), 'test': range(99, 197)}
_CARS_ANNOS = 'cars_annos.mat'
_DEVKIT_TRAIN = osp.join('devkit', 'cars_train_annos.mat')
_DEVKIT_TEST = osp.join('devkit', 'cars_test_annos_withlabels.mat')
_DEVKIT_META = osp.join('devkit', 'cars_meta.mat')
#: Image folder of each devkit annotation file.
_DEVKIT_IMAGE_DIRS = {_DEVKIT_TRAIN: 'cars_train', _DEVKIT_TEST: 'cars_test'}
_LAYOUTS = {
    'cars_annos': (
        'the cars_annos layout of Cars196: data_root holding cars_annos.mat and '
        'car_ims/<000001>.jpg'
    ),
    'devkit': (
        'the devkit layout of Cars196: data_root holding cars_train/, '
        'cars_test/, devkit/cars_train_annos.mat, '
        'devkit/cars_test_annos_withlabels.mat and devkit/cars_meta.mat'
    ),
}
ANNOTATION_LAYOUTS = ('auto', *_LAYOUTS)


@DATASETS.register_module()
class Cars196RetrievalDataset(ClassDisjointRetrievalDataset):
    """Cars196 split by class for retrieval: classes 1-98 / 99-196.

    Cars196 (Stanford Cars; Krause et al., "3D Object Representations for
    Fine-Grained Categorization", 3DRR workshop, ICCV 2013,
    https://ai.stanford.edu/~jkrause/cars/car_dataset.html) as deep metric
    learning splits it, and as BGAugment (Kobs & Hotho, "On Background Bias
    in Deep Metric Learning", ICMV 2022, https://arxiv.org/abs/2210.01615)
    uses it: the official training and test images are pooled, the first 98
    classes train and the other 98 test. Reads either official layout::

        data_root/                        (cars_annos layout)
        ├── cars_annos.mat                annotations: 1xN struct array with
        │                                 relative_im_path, bbox_x1..bbox_y2,
        │                                 class, test; class_names: 1x196
        └── car_ims/000001.jpg

        data_root/                        (devkit layout)
        ├── cars_train/00001.jpg
        ├── cars_test/00001.jpg
        └── devkit/
            ├── cars_train_annos.mat      annotations: bbox_x1..bbox_y2,
            ├── cars_test_annos_withlabels.mat       class, fname
            └── cars_meta.mat             class_names: 1x196

    Both give the same classes and labels; image paths are relative to
    ``data_root`` (``car_ims/000001.jpg``, or ``cars_train/00001.jpg`` and
    ``cars_test/00001.jpg``), and so are mask paths below ``masks_root``.
    Class names are those of ``class_names`` (``'AM General Hummer SUV
    2000'``), which must hold 196 names. Data infos hold the keys of
    :class:`ClassDisjointRetrievalDataset`.

    Args:
        data_root (str): The folder holding either layout.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        annotation_layout (str): ``'cars_annos'``, ``'devkit'`` or
            ``'auto'`` (``cars_annos`` if ``cars_annos.mat`` exists, else
            ``devkit``). Defaults to ``'auto'``.
        **kwargs: The other arguments of
            :class:`ClassDisjointRetrievalDataset` (``val_classes``,
            ``masks_root``, ``background_draws``, ``background_seed``,
            ``pipeline``, ...).
    """

    def __init__(
        self, data_root: str, split: str, annotation_layout: str = 'auto', **kwargs
    ):
        if annotation_layout not in ANNOTATION_LAYOUTS:
            raise UserError(
                f'annotation_layout must be one of {ANNOTATION_LAYOUTS}, got '
                f'{annotation_layout!r}'
            )
        self.annotation_layout = annotation_layout
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_official_split(
        self, official_split: str
    ) -> tuple[list[RetrievalRecord], Sequence[int]]:
        """Reads the images and class names of ``data_root``.

        Args:
            official_split (str): ``'train'`` or ``'test'``.

        Returns:
            tuple[list[RetrievalRecord], Sequence[int]]: Every image of the
            official training and test annotations, and the split's class
            ids.

        Raises:
            MissingFileError: If the layout's files are missing.
            UserError: Naming the ``.mat`` file of a missing variable or
                field, a class id outside 1-196 or a class list that is not
                196 names long.
        """
        layout = self._resolve_layout()
        if layout == 'cars_annos':
            path = osp.join(self.data_root, _CARS_ANNOS)
            contents = _load_mat(path, _LAYOUTS[layout])
            names_path = path
            class_names = _class_names(contents, path)
            images = [
                (path, number, relpath, class_id)
                for number, (relpath, class_id) in _annotations(
                    contents, path, ('relative_im_path', 'class')
                )
            ]
        else:
            names_path = osp.join(self.data_root, _DEVKIT_META)
            class_names = _class_names(
                _load_mat(names_path, _LAYOUTS[layout]), names_path
            )
            images = []
            for annotation_file, image_dir in _DEVKIT_IMAGE_DIRS.items():
                path = osp.join(self.data_root, annotation_file)
                contents = _load_mat(path, _LAYOUTS[layout])
                images += [
                    (path, number, f'{image_dir}/{fname}', class_id)
                    for number, (fname, class_id) in _annotations(
                        contents, path, ('fname', 'class')
                    )
                ]
        records = []
        for path, number, relpath, class_id in images:
            if not isinstance(relpath, str) or not relpath:
                raise UserError(
                    f'{path}, annotation {number}: the image path {relpath!r} '
                    'is not a file name'
                )
            if not isinstance(class_id, int) or not 1 <= class_id <= len(class_names):
                raise UserError(
                    f'{path}, annotation {number}: class {class_id!r} is not a '
                    f'class id of {names_path} (1 to {len(class_names)})'
                )
            records.append(
                RetrievalRecord(relpath, class_id, class_names[class_id - 1])
            )
        return records, _SPLIT_CLASS_IDS[official_split]

    def _resolve_layout(self) -> str:
        if self.annotation_layout != 'auto':
            return self.annotation_layout
        if osp.isfile(osp.join(self.data_root, _CARS_ANNOS)):
            return 'cars_annos'
        if osp.isfile(osp.join(self.data_root, _DEVKIT_TRAIN)):
            return 'devkit'
        raise MissingFileError(
            f'{self.data_root} holds neither {_CARS_ANNOS} nor {_DEVKIT_TRAIN}; '
            f'expected {_LAYOUTS["cars_annos"]}, or {_LAYOUTS["devkit"]}'
        )

    def extra_repr(self) -> list[str]:
        """The extra repr information of the dataset."""
        return [*super().extra_repr(), f'Annotation layout: \t{self.annotation_layout}']


def _load_mat(path: str, layout: str) -> dict:
    require_annotation_file(path, layout)
    try:
        # squeeze_me turns the release's 1xN struct arrays and 1x1 fields
        # into 1-D arrays and scalars.
        return scipy.io.loadmat(path, squeeze_me=True)
    except (ValueError, TypeError, OSError, NotImplementedError) as error:
        raise UserError(f'{path} is not a readable .mat file: {error}') from error


def _variable(contents: dict, path: str, name: str) -> np.ndarray:
    if name not in contents:
        found = sorted(key for key in contents if not key.startswith('__'))
        raise UserError(f'{path} has no variable {name!r}; it holds {found}')
    return np.atleast_1d(contents[name])


def _annotations(contents: dict, path: str, fields: Sequence[str]):
    """Yields ``(1-based number, field values)`` of the ``annotations`` array."""
    annotations = _variable(contents, path, 'annotations')
    found = annotations.dtype.names or ()
    if any(field not in found for field in fields):
        raise UserError(
            f'{path}: the annotations lack the fields {list(fields)}; they have '
            f'{list(found)}'
        )
    for number, annotation in enumerate(annotations, start=1):
        yield number, tuple(_scalar(annotation[field]) for field in fields)


def _class_names(contents: dict, path: str) -> list[str]:
    names = [_scalar(name) for name in _variable(contents, path, 'class_names')]
    if len(names) != _NUM_CLASSES or not all(isinstance(n, str) for n in names):
        raise UserError(
            f'{path}: class_names holds {len(names)} entries; expected the '
            f'{_NUM_CLASSES} class names of Cars196'
        )
    return names


def _scalar(value):
    """A squeezed ``.mat`` value as a Python int or str."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
