# S-CLAD+ on ImageNet-9: S-CLAD plus the stylized positive's cross-entropy.
# Paper (Table 7): ORIGINAL 95.5, STYLIZED-IN9 76.7, IN9-SKETCH 58.6.
_base_ = ['./resnet50_in9_sclad.py']

model = dict(with_pos_loss=True)
