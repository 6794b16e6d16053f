# CLAD (BMVC 2022) on ImageNet-9, the paper's recipe: the baseline's
# ImageNet-pretrained ResNet-50, Adam schedule, batch 64 and 224 px crops,
# plus λ·InfoNCE (λ = 1, τ = 0.2, cosine similarity on the pooled 2048-d
# feature, the head's input) against N = 32 negatives per background class.
# Paper: ORIGINAL 95.9, MIXED-RAND 87.5, BG-GAP 2.6.
_base_ = ['./resnet50_in9_baseline.py']

# Background-swapped positives: the dataset base's CLAD pipeline.
train_dataloader = dict(dataset=dict(pipeline={{_base_.clad_train_pipeline}}))

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
