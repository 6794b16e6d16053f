# SynSOP, the embedded retrieval set in Stanford Online Products' layout
# (64 px; `python tools/data/make_synsop.py data/synsop`): every product
# (class) is photographed on its own "home" background, train and test
# classes disjoint. Mattes in data/synsop/masks, two disjoint background pools
# in data/synsop/backgrounds/{train,test}. The test set is evaluated clean and
# on 5 background-replaced copies (test pool); no validation split (the demo's
# short schedule keeps its last checkpoint).
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/synsop'
train_backgrounds = 'data/synsop/backgrounds/train'
test_backgrounds = 'data/synsop/backgrounds/test'
# EfficientNet-Lite's input statistics (the demo's trunk), RGB.
data_preprocessor = dict(
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    to_rgb=True,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
bgaugment_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMatte'),
    dict(type='BGAugment', background_root=train_backgrounds),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
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
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'bg_draw')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        type='SOPRetrievalDataset',
        data_root=data_root,
        split='train',
        masks_root='masks',
        pipeline=train_pipeline,
    ),
    sampler=dict(type='MPerClassSampler', batch_size=32, m=4),
    collate_fn=dict(type='default_collate'),
)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='SOPRetrievalDataset',
        data_root=data_root,
        split='test',
        masks_root='masks',
        background_draws=5,
        test_mode=True,
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='DMLRetrievalMetric')
