"""ImageNet-1k predictions read as ImageNet-9 (IN-9) classes.

From "Noise or Signal: The Role of Image Backgrounds in Object Recognition"
(Xiao et al., ICLR 2021): a 1000-class ImageNet model is evaluated on the
nine-class Background Challenge by taking the argmax over all 1000 logits
and then mapping that ImageNet class to its IN-9 class. 370 ImageNet classes
belong to an IN-9 class; a prediction in any of the other 630 counts as
wrong, even when a mapped class has the second-highest score. CLAD (BMVC
2022) reports the ImageNet-trained ResNet-50 this way ("Base (IN)"). The
class list and the map live in :mod:`clad_mm.datasets.categories`.
"""

import torch

from clad_mm.datasets.categories import NUM_IMAGENET_CLASSES, imagenet_to_in9_labels
from clad_mm.utils.errors import UserError


def imagenet_to_in9_table() -> torch.Tensor:
    """The IN-9 label of every ImageNet-1k class.

    Returns:
        torch.Tensor: int64 tensor of length 1000; entry ``i`` is the index
        into ``IN9_CLASSES`` of ImageNet class ``i``, or ``UNMAPPED``
        (see :func:`clad_mm.datasets.categories.imagenet_to_in9_labels`).
    """
    return torch.tensor(imagenet_to_in9_labels(), dtype=torch.int64)


_TABLE = imagenet_to_in9_table()


def imagenet_to_in9(imagenet_labels: torch.Tensor) -> torch.Tensor:
    """Maps ImageNet-1k labels to IN-9 labels.

    Args:
        imagenet_labels (torch.Tensor): Integer ImageNet class indices, any
            shape.

    Returns:
        torch.Tensor: int64 IN-9 labels of the same shape, ``UNMAPPED``
        for classes outside IN-9.

    Raises:
        ValueError: If a label is outside ``[0, 1000)``.
    """
    labels = torch.as_tensor(imagenet_labels, dtype=torch.int64).cpu()
    if labels.numel() and (labels.min() < 0 or labels.max() >= NUM_IMAGENET_CLASSES):
        raise ValueError(
            f'ImageNet-1k labels must lie in [0, {NUM_IMAGENET_CLASSES}), got '
            f'values from {int(labels.min())} to {int(labels.max())}'
        )
    return _TABLE[labels]


def in9_predictions(imagenet_scores: torch.Tensor) -> torch.Tensor:
    """IN-9 predictions of a 1000-class ImageNet classifier.

    The argmax is taken over all 1000 classes first and then mapped, as the
    official evaluation does; restricting the argmax to the 370 mapped
    classes would instead credit a model whose top class lies outside IN-9.

    Args:
        imagenet_scores (torch.Tensor): Logits or probabilities, shape
            ``(1000,)`` or ``(N, 1000)``.

    Returns:
        torch.Tensor: int64 IN-9 labels, shape ``()`` or ``(N,)``;
        ``UNMAPPED`` where the top ImageNet class is outside IN-9.

    Raises:
        ValueError: If the last dimension is not 1000.
    """
    scores = torch.as_tensor(imagenet_scores)
    if scores.ndim not in (1, 2) or scores.shape[-1] != NUM_IMAGENET_CLASSES:
        raise UserError(
            f'Expected ImageNet-1k scores of shape ({NUM_IMAGENET_CLASSES},) or '
            f'(N, {NUM_IMAGENET_CLASSES}), got {tuple(scores.shape)}; is the '
            'model a 1000-class ImageNet classifier?'
        )
    return imagenet_to_in9(scores.argmax(dim=-1))
