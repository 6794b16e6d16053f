# SynWaterbirds, the embedded Waterbirds-like set in the official metadata.csv
# layout (64 px; `python tools/data/make_synwaterbirds.py data/synwaterbirds`):
# landbirds / waterbirds on land / water, 95 % correlated in training,
# group-balanced validation and test. Groups (bird type x place) go to the
# evaluator only.
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/synwaterbirds'
# EfficientNet-Lite's input statistics (the demo's trunk), RGB.
data_preprocessor = dict(
    num_classes=2,
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    to_rgb=True,
)
# ClusterFix's Waterbirds augmentation (RandomResizedCrop scale 0.7-1 + flip)
# at the set's 64 px.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.7, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# ClusterFix's training pipeline (configs/clusterfix/*_clusterfix.py set it):
# the same augmentation, and each image's cluster from the pseudo-label file
# (tools/analysis/make_pseudo_labels.py writes it; `make demo-clusterfix`).
pseudo_labels = 'work_dirs/synwaterbirds_pseudo_labels.json'
clusterfix_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPseudoLabel', pseudo_labels=pseudo_labels),
    *train_pipeline[1:-1],
    dict(type='PackInputs', algorithm_keys=('pseudo_label',)),
]
# GroupDRO's training pipeline (configs/clusterfix/*_group_dro.py set it):
# the same augmentation, and the group label, which this oracle trains on.
group_dro_train_pipeline = [
    *train_pipeline[:-1],
    dict(type='PackInputs', algorithm_keys=('group',)),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'group')),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='WaterbirdsDataset',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
    ),
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type='WaterbirdsDataset',
        data_root=data_root,
        split='val',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
val_evaluator = dict(type='GroupAccuracyMetric')
test_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type='WaterbirdsDataset',
        data_root=data_root,
        split='test',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='GroupAccuracyMetric')
