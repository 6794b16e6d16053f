# ResNet-50 embedding (128-d) trained with the normalized softmax loss on CUB-200-2011,
# the paper's recipe (RMSprop lr 1e-6, batch 32, early stopping on the validation
# classes' MAP@R) and the authors' tuned loss values. Test: MAP@R, P@1, R-Precision and
# Recall@K on the clean and the background-replaced test set (5 draws).
_base_ = [
    '../_base_/models/resnet50_dml.py',
    '../_base_/datasets/cub_dml_bs32.py',
    '../_base_/schedules/dml_rmsprop_early_stop.py',
]

# A proxy loss: one class proxy per training class (75), trained at
# the authors' loss learning rate 0.004469 (= lr_mult x 1e-6); m = 1.
model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='NormalizedSoftmaxLoss',
            num_classes=75,
            embedding_size=128,
            temperature=0.1087,
        )
    )
)
train_dataloader = dict(sampler=dict(m=1))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head.loss_module': dict(lr_mult=4468.9)})
)
