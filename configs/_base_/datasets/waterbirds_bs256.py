# Waterbirds (Sagawa et al., ICLR 2020) in its official release: data_root is
# the unpacked waterbird_complete95_forest2water2 folder (metadata.csv and
# <NNN.Species>/<image>.jpg). Groups (bird type x place) go to the evaluator
# only. ClusterFix's augmentation: RandomResizedCrop(224, scale 0.7-1) and a
# flip for training; resize the short side to 256, centre crop 224 for
# evaluation.
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/waterbirds/waterbird_complete95_forest2water2'
data_preprocessor = dict(
    num_classes=2,
    # ImageNet statistics (the trunk is ImageNet-pretrained), RGB order.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.7, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# ClusterFix's training pipeline (configs/clusterfix/*_clusterfix.py set it):
# the same augmentation, and each image's cluster from the pseudo-label file
# (tools/analysis/make_pseudo_labels.py writes it).
pseudo_labels = 'work_dirs/waterbirds_pseudo_labels.json'
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
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'group')),
]
# SeededSampler makes every sample's augmentation a function of (seed, epoch,
# sample index): the same in every run, worker count and after --resume.
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
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
    batch_size=256,
    num_workers=8,
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
    batch_size=256,
    num_workers=8,
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
