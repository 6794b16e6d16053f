# S-CLAD+ on the SynBG texture variant: S-CLAD plus the texture-swapped
# positive's cross-entropy.
_base_ = ['./resnet18_synbg_texture_sclad.py']

model = dict(with_pos_loss=True)
