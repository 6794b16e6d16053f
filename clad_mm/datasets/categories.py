"""Class lists of the data sets clad_mm reads, as MMPretrain keeps them.

ImageNet-9 (IN-9) is the nine-class ImageNet subset of the Background
Challenge (Xiao et al., "Noise or Signal: The Role of Image Backgrounds in
Object Recognition", ICLR 2021). Its classes are unions of ImageNet-1k
classes; :data:`IMAGENET_TO_IN9_RANGES` lists which, as the official
evaluation code of the Background Challenge does. The datasets, the IN-9
builders and the evaluation of 1000-class models all read them from here.
"""

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

#: IN-9 class folders of the release, ``00_dog`` ... ``08_fish``.
IN9_CLASS_FOLDERS = tuple(
    f'{index:02d}_{name}' for index, name in enumerate(IN9_CLASSES)
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


def imagenet_to_in9_labels() -> tuple[int, ...]:
    """The IN-9 label of every ImageNet-1k class.

    Returns:
        tuple[int, ...]: 1000 entries; entry ``i`` is the index into
        :data:`IN9_CLASSES` of ImageNet class ``i``, or :data:`UNMAPPED`.
    """
    labels = [UNMAPPED] * NUM_IMAGENET_CLASSES
    for in9_label, name in enumerate(IN9_CLASSES):
        for entry in IMAGENET_TO_IN9_RANGES[name]:
            first, last = (entry, entry) if isinstance(entry, int) else entry
            labels[first : last + 1] = [in9_label] * (last + 1 - first)
    return tuple(labels)
