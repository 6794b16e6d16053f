# CLAD+ (BMVC 2022) on ImageNet-9 with the pretrained EfficientNet-B0: CLAD
# plus the positive's cross-entropy. Smoke-tested only: not trained on IN-9
# here.
_base_ = ['./efficientnet_b0_in9_clad.py']

model = dict(with_pos_loss=True)
