"""ImageNet-1k predictions read as ImageNet-9 (IN-9) classes.

From "Noise or Signal: The Role of Image Backgrounds in Object Recognition"
(Xiao et al., ICLR 2021): a 1000-class ImageNet model is evaluated on the
nine-class Background Challenge by taking the argmax over all 1000 logits
and then mapping that ImageNet class to its IN-9 class. 370 ImageNet classes
belong to an IN-9 class; a prediction in any of the other 630 counts as
wrong, even when a mapped class has the second-highest score. CLAD (BMVC
2022) reports the ImageNet-trained ResNet-50 this way ("Base (IN)").
"""

import torch

#: IN-9 classes in label order, as the release's folders ``00_dog`` to
#: ``08_fish`` name them.
IN9_CLASSES = (
    'dog',
    'bird',
    'wheeled vehicle',
    'reptile',
    'carnivore',
    'insect',
    'musical instrument',
    'primate',
    'fish',
)

#: ImageNet-1k class indices of each IN-9 class: ``(first, last)`` for an
#: inclusive range, a bare int for a single class; as in the official
#: evaluation code of the Background Challenge.
# fmt: off
IMAGENET_TO_IN9_RANGES = {
    'dog': ((151, 170), (173, 268)),
    'bird': ((7, 24), (87, 100), (127, 146)),
    'wheeled vehicle': (
        407, 408, 428, 436, 444, 468, 511, 547, 555, 561, 565, 569, 573, 586,
        603, 609, 612, 627, 656, 661, 665, 670, 671, 675, 690, 705, 717, 734,
        751, 757, 791, 802, 803, 817, 820, 829, 847, 864, 866, 867, 870, 880,
    ),
    'reptile': ((33, 68),),
    'carnivore': ((269, 280), (286, 299), (356, 362), 387, 388),
    'insect': ((300, 326),),
    'musical instrument': (
        401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, 593,
        594, 641, 642, 683, 684, 687, 699, 776, 822, 875, 881, 889,
    ),
    'primate': ((365, 384),),
    'fish': ((0, 6), (389, 397)),
}
# fmt: on

NUM_IMAGENET_CLASSES = 1000
#: IN-9 label of an ImageNet class outside every IN-9 class; no ground
#: truth equals it, so such predictions count as wrong.
UNMAPPED = -1


def imagenet_to_in9_table() -> torch.Tensor:
    """The IN-9 label of every ImageNet-1k class.

    Returns:
        torch.Tensor: int64 tensor of length 1000; entry ``i`` is the index
        into :data:`IN9_CLASSES` of ImageNet class ``i``, or
        :data:`UNMAPPED`.
    """
    table = torch.full((NUM_IMAGENET_CLASSES,), UNMAPPED, dtype=torch.int64)
    for in9_label, name in enumerate(IN9_CLASSES):
        for entry in IMAGENET_TO_IN9_RANGES[name]:
            first, last = (entry, entry) if isinstance(entry, int) else entry
            table[first : last + 1] = in9_label
    return table


_TABLE = imagenet_to_in9_table()


def imagenet_to_in9(imagenet_labels: torch.Tensor) -> torch.Tensor:
    """Maps ImageNet-1k labels to IN-9 labels.

    Args:
        imagenet_labels (torch.Tensor): Integer ImageNet class indices, any
            shape.

    Returns:
        torch.Tensor: int64 IN-9 labels of the same shape, :data:`UNMAPPED`
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
        :data:`UNMAPPED` where the top ImageNet class is outside IN-9.

    Raises:
        ValueError: If the last dimension is not 1000.
    """
    scores = torch.as_tensor(imagenet_scores)
    if scores.ndim not in (1, 2) or scores.shape[-1] != NUM_IMAGENET_CLASSES:
        raise ValueError(
            f'Expected ImageNet-1k scores of shape ({NUM_IMAGENET_CLASSES},) or '
            f'(N, {NUM_IMAGENET_CLASSES}), got {tuple(scores.shape)}; is the '
            'model a 1000-class ImageNet classifier?'
        )
    return imagenet_to_in9(scores.argmax(dim=-1))
