# CLAD+ (BMVC 2022) on SynBG from ImageNet features: CLAD plus the
# positive's cross-entropy.
_base_ = ['./efficientnet_lite0_synbg_clad.py']

model = dict(with_pos_loss=True)
