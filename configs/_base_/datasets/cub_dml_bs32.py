# CUB-200-2011 for retrieval: train classes 1-100 (75 train + the
# carved-out validation classes 76-100), test classes 101-200.
# Foreground mattes (for BGAugment and the replaced-background test) are read
# from <data_root>/<masks_root>/<image path>.png, e.g. from
# `python tools/data/make_masks.py`.
_base_ = ['./dml_pipelines_227.py']

data_root = 'data/CUB_200_2011'
masks_root = 'masks'
val_classes = 25
# Kobs & Hotho: 5 background-replaced copies of the test set (mean and std).
test_background_draws = 5

# MPerClassSampler: batch_size / m classes per batch (m = 4 for pair losses;
# the proxy-loss configs set m = 1).
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type='CUBRetrievalDataset',
        data_root=data_root,
        split='train',
        val_classes=val_classes,
        masks_root=masks_root,
        pipeline={{_base_.train_pipeline}},
    ),
    sampler=dict(type='MPerClassSampler', batch_size=32, m=4),
    collate_fn=dict(type='default_collate'),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='CUBRetrievalDataset',
        data_root=data_root,
        split='val',
        val_classes=val_classes,
        masks_root=masks_root,
        background_draws=1,
        test_mode=True,
        pipeline={{_base_.val_pipeline}},
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
val_evaluator = dict(type='DMLRetrievalMetric')
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='CUBRetrievalDataset',
        data_root=data_root,
        split='test',
        masks_root=masks_root,
        background_draws=test_background_draws,
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_evaluator = dict(type='DMLRetrievalMetric')
