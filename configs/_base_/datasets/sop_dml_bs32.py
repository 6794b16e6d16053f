# Stanford Online Products for retrieval: Ebay_train.txt (11 318 classes:
# 8 489 train + 2 829 carved-out validation classes, as the authors),
# Ebay_test.txt (11 316 classes, 60 502 images).
# Foreground mattes (for BGAugment and the replaced-background test) are read
# from <data_root>/<masks_root>/<image path>.png, e.g. from
# `python tools/data/make_masks.py`.
_base_ = ['./dml_pipelines_227.py']

data_root = 'data/Stanford_Online_Products'
masks_root = 'masks'
val_classes = 2829
# Kobs & Hotho: 5 background-replaced copies of the test set (mean and std).
test_background_draws = 5

# MPerClassSampler: batch_size / m classes per batch (m = 4 for pair losses;
# the proxy-loss configs set m = 1).
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type='SOPRetrievalDataset',
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
        type='SOPRetrievalDataset',
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
        type='SOPRetrievalDataset',
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
