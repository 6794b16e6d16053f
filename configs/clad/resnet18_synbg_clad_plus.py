# CLAD+ (BMVC 2022) on SynBG: CLAD plus the positive's cross-entropy.
_base_ = ['./resnet18_synbg_clad.py']

model = dict(with_pos_loss=True)
