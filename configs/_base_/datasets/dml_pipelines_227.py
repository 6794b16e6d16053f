# Pipelines of the deep-metric-learning recipe (Kobs & Hotho, ICMV 2022):
# training RandomResizedCrop (scale 0.16-1) to 227 px + horizontal flip; test
# resize (short edge) 256 + centre crop 227. The dataset bases below inherit
# them.
#
# BGAugment (bgaugment_train_pipeline) composites every training image, every
# step, on a background drawn from `train_backgrounds` through its soft matte
# (LoadForegroundMatte reads the dataset's masks_root). The test pipeline
# builds the "replaced backgrounds" copies of the test set the same way from
# the disjoint `test_backgrounds` (ApplyToReplacedCopies: copies with
# bg_draw >= 0 only; clean images, and MMPretrain's inferencers' images, pass
# unchanged). The paper uses two pools of 100
# object-free photographs (the authors' Unsplash sets); put yours in these
# folders or point the keys elsewhere.
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

train_backgrounds = 'data/dml_backgrounds/train'
test_backgrounds = 'data/dml_backgrounds/test'
data_preprocessor = dict(
    # ImageNet statistics, RGB order, 0-255 scale.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=227, crop_ratio_range=(0.16, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
bgaugment_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMatte'),
    dict(type='BGAugment', background_root=train_backgrounds),
    dict(type='RandomResizedCrop', scale=227, crop_ratio_range=(0.16, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# Validation composites on the training pool (the test pool stays unseen).
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ApplyToReplacedCopies',
        transforms=[
            dict(type='LoadForegroundMatte'),
            dict(type='BGAugment', background_root=train_backgrounds),
        ],
    ),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=227),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'bg_draw')),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ApplyToReplacedCopies',
        transforms=[
            dict(type='LoadForegroundMatte'),
            dict(type='BGAugment', background_root=test_backgrounds),
        ],
    ),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=227),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'bg_draw')),
]
