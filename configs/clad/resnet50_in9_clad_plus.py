# CLAD+ (BMVC 2022) on ImageNet-9: CLAD plus the positive's cross-entropy.
# Paper: ORIGINAL 95.6, MIXED-RAND 89.3, BG-GAP 1.2.
_base_ = ['./resnet50_in9_clad.py']

model = dict(with_pos_loss=True)
