# SynBG texture variant: ink-outlined shapes filled with class-correlated
# textures on a neutral background (64 px, 9 classes), the weight-free texture-bias
# data set of the S-CLAD demo. Same pipelines and loaders as SynBG.
# Generate it with `python tools/data/make_synbg_texture.py data/synbg_texture`.
_base_ = ['./synbg_bs64.py']

data_root = 'data/synbg_texture'
test_root = 'data/synbg_texture/test_set'

train_dataloader = dict(dataset=dict(data_root=data_root))
# Validation watches the splits that reveal texture reliance: shapes with a
# conflicting texture, and shapes drawn as outlines without any texture.
val_dataloader = dict(
    dataset=dict(data_root=test_root, splits=['original', 'random_texture', 'outline'])
)
# Testing adds only_texture (the class's texture without its shape).
test_dataloader = dict(
    dataset=dict(
        data_root=test_root,
        splits=['original', 'random_texture', 'outline', 'only_texture'],
    )
)
