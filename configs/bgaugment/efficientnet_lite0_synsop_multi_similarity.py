# The embedded demo (`make demo-dml`): the ImageNet EfficientNet-Lite0 trunk, a 128-d
# embedding trained with the multi-similarity loss (the authors' values for Stanford
# Online Products, whose layout SynSOP has) on SynSOP at 64 px, 8 epochs of Adam on CPU.
# No background augmentation: the base model.
_base_ = [
    '../_base_/models/efficientnet_lite0_dml.py',
    '../_base_/datasets/synsop_dml_bs32.py',
    '../_base_/schedules/synsop_finetune_adam_8e.py',
]

# A pair loss: m = 4 images per class in a batch (the dataset base's).
model = dict(
    head=dict(
        loss={
            '_delete_': True,
            'type': 'MultiSimilarityLoss',
            'alpha': 8.4925,
            'beta': 57.3886,
            'base': 0.4167,
        }
    )
)
