# CLAD+ (BMVC 2022) on ImageNet-9 with the pretrained EfficientNet-Lite0:
# CLAD plus the positive's cross-entropy.
_base_ = ['./efficientnet_lite0_in9_clad.py']

model = dict(with_pos_loss=True)
