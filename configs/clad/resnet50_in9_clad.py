# CLAD (BMVC 2022) on ImageNet-9, the paper's recipe: the baseline's
# ImageNet-pretrained ResNet-50, Adam schedule, batch 64 and 224 px crops,
# plus λ·InfoNCE (λ = 1, τ = 0.2, cosine similarity on the pooled 2048-d
# feature, the head's input) against N = 32 negatives per background class.
# Paper: ORIGINAL 95.9, MIXED-RAND 87.5, BG-GAP 2.6.
_base_ = ['./resnet50_in9_baseline.py']

# BackgroundSwap draws the backgrounds from the dataset's own only_bg_t/train
# (it follows an overridden train_dataloader.dataset.data_root). The dataset
# finds the foregrounds itself: fg_mask/train (binary masks) if present, else
# fg_grabcut/train (objects on black, as in CLAD's zip). Positives are pasted
# at the loaded 224 px, then anchor and positive get their own crop, flip and
# colour jitter (the base's train_augmentation).
clad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='BackgroundSwap'),
    dict(type='TwoViewPipeline', anchor_pipeline={{_base_.train_augmentation}}),
    dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
]
train_dataloader = dict(dataset=dict(pipeline=clad_train_pipeline))

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    # feat_dim follows head.in_channels (2048).
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32),
    with_pos_loss=False,
)

custom_hooks = [
    dict(type='DeterministicRandomStateHook'),  # as in the schedule base
    dict(type='NegativeDictionaryHook'),
]
