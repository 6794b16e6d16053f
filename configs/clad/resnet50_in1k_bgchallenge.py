# "Base (IN)" of CLAD (BMVC 2022): MMPretrain's ImageNet-1k ResNet-50 (no
# IN-9 training) on every split of the Background Challenge test release,
# its 1000-class predictions read as IN-9 classes (argmax over all 1000,
# then mapped; the 630 classes outside IN-9 count as wrong). Test only:
#   python tools/test.py configs/clad/resnet50_in1k_bgchallenge.py \
#       https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth
# (or a local copy of that file as CHECKPOINT).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/bgchallenge_in1k_test.py',
    'mmpretrain::_base_/default_runtime.py',
]

# tools/test.py replaces load_from with its CHECKPOINT argument.
load_from = (
    'https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet50_8xb32_in1k_20210831-ea4938fc.pth'
)

data_preprocessor = dict(
    num_classes=1000,
    # The statistics the model was trained with (MMPretrain's
    # resnet50_8xb32_in1k), RGB order, 0-255 scale.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
