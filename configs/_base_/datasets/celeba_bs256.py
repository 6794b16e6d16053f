# CelebA (Liu et al., ICCV 2015) as a group-robustness benchmark: Blond_Hair
# is the target, Male the bias (groups: hair x gender, for the evaluator
# only). data_root holds the official files (list_attr_celeba.txt,
# list_eval_partition.txt, img_align_celeba/) or the CSV copies
# (list_attr_celeba.csv, list_eval_partition.csv); another pair of
# attributes: --cfg-options on target_attribute / bias_attribute of the
# three datasets. ClusterFix's CelebA recipe trains on class-balanced batches
# (BalancedSampler with key='gt_label': no group label is used). The 178x218
# aligned faces are centre-cropped to 178x178 and resized to 224 for
# evaluation, and randomly resized-cropped (scale 0.7-1) and flipped for
# training (the convention of GroupDRO's CelebA code).
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

data_root = 'data/celeba'
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
pseudo_labels = 'work_dirs/celeba_pseudo_labels.json'
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
    dict(type='CenterCrop', crop_size=178),
    dict(type='Resize', scale=224),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'group')),
]
celeba = dict(
    type='CelebADataset',
    data_root=data_root,
    target_attribute='Blond_Hair',
    bias_attribute='Male',
)
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    dataset=dict(**celeba, split='train', pipeline=train_pipeline),
    # Class-balanced batches, drawn with replacement; seeded per position so
    # that --resume continues exactly.
    sampler=dict(type='BalancedSampler', key='gt_label'),
    collate_fn=dict(type='default_collate'),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    dataset=dict(**celeba, split='val', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
val_evaluator = dict(type='GroupAccuracyMetric')
test_dataloader = dict(
    batch_size=256,
    num_workers=8,
    dataset=dict(**celeba, split='test', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='GroupAccuracyMetric')
