# SynBG, the embedded Background-Challenge-style data set (64 px, 9 classes).
# Generate it with `python tools/data/make_synbg.py data/synbg`.
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/synbg'
test_root = 'data/synbg/test_set'
data_preprocessor = dict(
    num_classes=9,
    # ImageNet statistics, RGB order, 0-255 scale.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

# SynBG objects may touch the border: no cropping, only flips.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]

# CLAD's training pipeline (the configs/clad/*_synbg_clad*.py set it):
# BackgroundSwap pastes the foreground on another class's ONLY-BG-T from the
# dataset's own only_bg_t/train (it follows an overridden
# train_dataloader.dataset.data_root); anchor and positive are then flipped
# independently.
clad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='BackgroundSwap'),
    dict(
        type='TwoViewPipeline',
        anchor_pipeline=[dict(type='RandomFlip', prob=0.5, direction='horizontal')],
    ),
    dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
]

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'split')),
]

# SeededSampler makes every sample's augmentation a function of (seed, epoch,
# sample index): the same in every run, worker count and after --resume.
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='BGChallengeTrainDataset',
        data_root=data_root,
        background_dir=None,
        pipeline=train_pipeline,
    ),
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
)

# Validation watches the splits that reveal background reliance.
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type='BGChallengeTestDataset',
        data_root=test_root,
        splits=['original', 'mixed_same', 'mixed_rand'],
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
val_evaluator = dict(type='BGChallengeMetric')

# Testing evaluates every split present under the test root.
test_dataloader = dict(
    batch_size=128,
    num_workers=2,
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
