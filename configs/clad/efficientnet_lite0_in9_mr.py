# Base (MR) of CLAD (BMVC 2022) on ImageNet-9 with the pretrained
# EfficientNet-Lite0: the baseline trained on MIXED-RAND images, read from
# data/in9/mixed_rand/train/<class>/ (written by tools/data/prepare_in9.py
# when it rebuilds IN-9 from ImageNet; no public download holds it), as
# resnet50_in9_mr.py explains.
_base_ = ['./efficientnet_lite0_in9_baseline.py']

train_dataloader = dict(dataset=dict(image_dir='mixed_rand'))
