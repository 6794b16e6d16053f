# ClusterFix (Capitani et al., WACV 2024) on SynBG from ImageNet features: the
# fine-tuned EfficientNet-Lite0 baseline of configs/clad/ plus one
# pseudo-label head per class, trained on the clusters of the ImageNet
# features (8 per class), up-weighting the samples of hard clusters; beta
# 0.01. It needs neither masks nor background labels: the mask-free row
# beside CLAD on the Background Challenge splits (`make demo-pretrained`).
# The pseudo-label file comes first:
#   python tools/analysis/make_pseudo_labels.py \
#       configs/efficientnet_lite/efficientnet_lite0_in1k.py \
#       checkpoints/efficientnet_lite0_in1k.pth \
#       --data-config configs/clad/efficientnet_lite0_synbg_baseline.py \
#       --out work_dirs/synbg_pseudo_labels.json
_base_ = ['../clad/efficientnet_lite0_synbg_baseline.py']

pseudo_labels = 'work_dirs/synbg_pseudo_labels.json'
model = dict(
    type='ClusterFixClassifier',
    pseudo_labels=pseudo_labels,
    feat_channels=1280,
    beta=0.01,
)
train_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPseudoLabel', pseudo_labels=pseudo_labels),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs', algorithm_keys=('pseudo_label',)),
        ]
    )
)
