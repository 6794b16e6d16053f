# CLAD+ (BMVC 2022) on ImageNet-9 with the pretrained ViT-S/16 (DeiT-S
# weights): CLAD plus the positive's cross-entropy. Smoke-tested only: not
# trained on IN-9 here.
_base_ = ['./vit_small_p16_in9_clad.py']

model = dict(with_pos_loss=True)
