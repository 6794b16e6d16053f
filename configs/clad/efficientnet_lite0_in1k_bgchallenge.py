# "Base (IN)" of CLAD (BMVC 2022) with EfficientNet-Lite0: the ImageNet-1k
# model itself (no IN-9 training; configs/efficientnet_lite/
# efficientnet_lite0_in1k.py) on every split of the Background Challenge
# test release, its 1000-class predictions read as IN-9 classes. Test only:
#   python tools/test.py configs/clad/efficientnet_lite0_in1k_bgchallenge.py \
#       checkpoints/efficientnet_lite0_in1k.pth
_base_ = [
    '../_base_/models/efficientnet_lite0.py',
    '../_base_/datasets/bgchallenge_in1k_test.py',
    'mmpretrain::_base_/default_runtime.py',
]

# tools/test.py replaces load_from with its CHECKPOINT argument.
load_from = 'checkpoints/efficientnet_lite0_in1k.pth'

# EfficientNet-Lite's own input statistics (TensorFlow's lite builder:
# mean 127, std 128 on every channel, RGB), not ImageNet's.
data_preprocessor = dict(
    num_classes=1000,
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    to_rgb=True,
)
