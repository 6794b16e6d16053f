# S-CLAD (the texture variant of CLAD, BMVC 2022) on the SynBG texture
# variant, weight-free: the positive keeps the anchor's shape and its
# background, and TextureSwap re-fills the shape (through its mask) with the
# texture of another class; the negative dictionary is keyed by that texture
# class. Same model and schedule as the SynBG CLAD demo, with the paper's
# λ = 1: it beat λ = 0.5 on version 1 of the set (4 seeds, GPU:
# RANDOM-TEXTURE 94.4 vs 90.1) and on version 2 (seed 0: 99.9 vs 94.5), and
# λ = 2 diverged on some seeds of version 1 (README, "The texture demo").
_base_ = ['./resnet18_synbg_texture_baseline.py']

# TextureSwap draws the textures from the dataset's own only_texture/train
# (it follows an overridden train_dataloader.dataset.data_root).
sclad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='TextureSwap'),
    dict(
        type='TwoViewPipeline',
        anchor_pipeline=[dict(type='RandomFlip', prob=0.5, direction='horizontal')],
    ),
    dict(type='PackInputs', algorithm_keys=('pos_texture_label',)),
]
train_dataloader = dict(dataset=dict(pipeline=sclad_train_pipeline))

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    # feat_dim follows head.in_channels (512).
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32),
    dictionary_key='pos_texture_label',
    with_pos_loss=False,
)

# The model's enqueue_before_loss (default True: the paper's order) sets when
# the positives are enqueued; the hook logs the queues.
custom_hooks = [
    dict(type='DeterministicRandomStateHook'),  # as in the schedule base
    dict(type='NegativeDictionaryHook', interval=10),
]
