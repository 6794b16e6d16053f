# CLAD+ (BMVC 2022) on ImageNet-9 with the pretrained Swin-T: CLAD plus the
# positive's cross-entropy. Smoke-tested only: not trained on IN-9 here.
_base_ = ['./swin_tiny_in9_clad.py']

model = dict(with_pos_loss=True)
