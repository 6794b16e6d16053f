# CLAD (BMVC 2022) on SynBG: the baseline's ResNet-18 and schedule, plus
# λ·InfoNCE against a per-background-class negative dictionary.
_base_ = ['./resnet18_synbg_baseline.py']

# Overriding data_root with --cfg-options? Override background_root too.
background_root = 'data/synbg/only_bg_t/train'

clad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForegroundMask'),
    dict(type='BackgroundSwap', background_root=background_root),
    dict(
        type='TwoViewPipeline',
        anchor_pipeline=[dict(type='RandomFlip', prob=0.5, direction='horizontal')],
    ),
    dict(type='PackInputs', algorithm_keys=('pos_bg_label',)),
]
train_dataloader = dict(dataset=dict(pipeline=clad_train_pipeline))

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32, feat_dim=512),
    with_pos_loss=False,
)

custom_hooks = [dict(type='NegativeDictionaryHook', enqueue='before_loss', interval=10)]
