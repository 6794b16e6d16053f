# ImageNet-9 (Background Challenge, Xiao et al., ICLR 2021), 224 px.
# Training reads CLAD's released zip unpacked into data/in9 (original/train,
# fg_grabcut/train, only_bg_t/train, original|mixed_same|mixed_rand/val);
# testing reads the official release unpacked into data/bg_challenge.
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/in9'
test_root = 'data/bg_challenge'

data_preprocessor = dict(
    num_classes=9,
    # ImageNet statistics (the backbone is ImageNet-pretrained), RGB order.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

# CLAD's training augmentation: RandomResizedCrop to 224, horizontal flip and
# colour jitter. The paper names the jitter without its strengths; these are
# the usual ImageNet values (brightness, contrast and saturation 0.4, no hue
# change, as in MoCo v2 and SimCLR's colour distortion without hue).
color_jitter = dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)
train_augmentation = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    color_jitter,
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    *train_augmentation,
    dict(type='PackInputs'),
]

# CLAD's training pipeline (the configs/clad/*_in9_clad*.py set it):
# BackgroundSwap draws the backgrounds from the dataset's own only_bg_t/train
# (it follows an overridden train_dataloader.dataset.data_root); the dataset
# finds the foregrounds itself: fg_mask/train (binary masks) if present, else
# fg_grabcut/train (objects on black, as in CLAD's zip). Positives are pasted
# at the loaded 224 px, then anchor and positive get their own crop, flip and
# colour jitter.
clad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='BackgroundSwap'),
    dict(type='TwoViewPipeline', anchor_pipeline=train_augmentation),
    dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
]

# Every IN-9 image (CLAD's val folders and the official test release) is
# 224x224 already, and the official evaluation feeds them as they are:
# no resize, no crop (ImageNet's ResizeEdge(256) + CenterCrop(224) would cut
# off the objects' borders). An image of another size is a collation error
# in the batch, not a silent rescale.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'split')),
]

# SeededSampler makes every sample's augmentation a function of (seed, epoch,
# sample index): the same in every run, worker count and after --resume.
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    dataset=dict(
        type='BGChallengeTrainDataset',
        data_root=data_root,
        background_dir=None,
        pipeline=train_pipeline,
    ),
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
)

val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    dataset=dict(
        type='BGChallengeTestDataset',
        data_root=data_root,
        splits=['original', 'mixed_same', 'mixed_rand'],
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
val_evaluator = dict(type='BGChallengeMetric')

test_dataloader = dict(
    batch_size=64,
    num_workers=8,
    dataset=dict(
        type='BGChallengeTestDataset',
        data_root=test_root,
        splits=None,
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = val_evaluator
