# BGAugment (Kobs & Hotho, ICMV 2022) on resnet50_cub_multi_similarity.py: every
# training image on a random background of train_backgrounds through its soft matte,
# every step; the checkpoint is selected (and training stopped) on the
# background-replaced validation MAP@R, as the authors do.
_base_ = ['./resnet50_cub_multi_similarity.py']

selection_metric = 'retrieval/replaced/MAP@R'
train_dataloader = dict(dataset=dict(pipeline={{_base_.bgaugment_train_pipeline}}))
default_hooks = dict(checkpoint=dict(save_best=selection_metric))
custom_hooks = [
    dict(type='DeterministicRandomStateHook'),
    dict(
        type='EarlyStoppingHook',
        monitor=selection_metric,
        rule='greater',
        min_delta=0.0,
        patience=15,
    ),
]
