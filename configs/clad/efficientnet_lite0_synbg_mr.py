# Base (MR) of CLAD (BMVC 2022) on SynBG from ImageNet features: the
# pretrained EfficientNet-Lite0 baseline trained on MIXED-RAND images only,
# every training object pasted on the ONLY-BG-T background of a random
# training image (of any class). SynBG has no mixed_rand/train folder, so
# the composite is made online: a new background for every sample and epoch
# (ImageNet-9's Base (MR) reads one fixed composite per image instead,
# configs/clad/efficientnet_lite0_in9_mr.py).
_base_ = ['./efficientnet_lite0_synbg_baseline.py']

mixed_rand_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='BackgroundSwap', background_choice='random'),
    # The composite (pos_img) is the training image; it is flipped and packed.
    dict(
        type='KeyMapper',
        mapping={'img': 'pos_img'},
        auto_remap=True,
        transforms=[dict(type='RandomFlip', prob=0.5, direction='horizontal')],
    ),
    dict(type='PackInputs', input_key='pos_img'),
]
train_dataloader = dict(dataset=dict(pipeline=mixed_rand_train_pipeline))
