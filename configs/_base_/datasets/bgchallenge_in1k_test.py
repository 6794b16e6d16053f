# The Background Challenge test release (every split under data/bg_challenge)
# for an ImageNet-1k model: its 1000-class predictions read as IN-9 classes
# (argmax over all 1000, then mapped; the 630 classes outside IN-9 count as
# wrong). Test only. The config that uses it sets the model and its
# data_preprocessor (num_classes=1000, the model's own statistics).
custom_imports = dict(imports=['clad_mm'], allow_failed_imports=False)

test_root = 'data/bg_challenge'

# The release's images are already 224x224 crops, and the official
# evaluation feeds them as they are (ToTensor only); ImageNet's
# ResizeEdge(256) + CenterCrop(224) would cut off the objects' borders.
# Pillow decodes the JPEGs, as torchvision does in the official code.
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'split')),
]

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
test_evaluator = dict(type='BGChallengeMetric', label_mapping='imagenet1k_to_in9')
test_cfg = dict()
