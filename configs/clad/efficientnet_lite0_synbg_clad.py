# CLAD (BMVC 2022) on SynBG from ImageNet features: the pretrained
# EfficientNet-Lite0 baseline plus λ·InfoNCE against a per-background-class
# negative dictionary with the paper's settings for a pretrained backbone:
# λ = 1, τ = 0.2, N = 32, cosine similarity on the pooled 1280-d feature
# (the head's input).
_base_ = ['./efficientnet_lite0_synbg_baseline.py']

# Background-swapped positives: the dataset base's CLAD pipeline.
train_dataloader = dict(dataset=dict(pipeline={{_base_.clad_train_pipeline}}))

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    # feat_dim follows head.in_channels (1280).
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32),
    with_pos_loss=False,
)

custom_hooks = [
    dict(type='DeterministicRandomStateHook'),  # as in the schedule base
    dict(type='NegativeDictionaryHook', interval=10),
]
