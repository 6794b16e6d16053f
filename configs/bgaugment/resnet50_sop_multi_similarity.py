# ResNet-50 embedding (128-d) trained with the multi-similarity loss on Stanford Online
# Products, the paper's recipe (RMSprop lr 1e-6, batch 32, early stopping on the
# validation classes' MAP@R) and the authors' tuned loss values. Test: MAP@R, P@1,
# R-Precision and Recall@K on the clean and the background-replaced test set (5 draws).
_base_ = [
    '../_base_/models/resnet50_dml.py',
    '../_base_/datasets/sop_dml_bs32.py',
    '../_base_/schedules/dml_rmsprop_early_stop.py',
]

# A pair loss: m = 4 images per class in a batch (the dataset base's).
model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='MultiSimilarityLoss',
            alpha=8.4925,
            beta=57.3886,
            base=0.4167,
        )
    )
)
