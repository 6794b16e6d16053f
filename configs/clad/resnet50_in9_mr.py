# Base (MR) of CLAD (BMVC 2022): the IN-9 baseline (ImageNet-pretrained
# ResNet-50, cross-entropy only, same recipe) trained on MIXED-RAND images,
# i.e. every training object pasted on the ONLY-BG-T background of a random
# image of a random class. Paper: ORIGINAL 88.4, MIXED-RAND 86.7, BG-GAP 0.4.
#
# The training images are read from data/in9/mixed_rand/train/<class>/, which
# no public download holds (CLAD's zip has mixed_rand/val only, and the
# official training links are dead). tools/data/prepare_in9.py writes it
# when it rebuilds IN-9 from ImageNet: every training object pasted at the
# same place on the only_bg_t image of a random training image, saved under
# the object's own class folder and file stem.
#
# The dataset also requires a foreground folder (fg_mask/train if present,
# else fg_grabcut/train) that corresponds stem for stem. This pipeline does
# not read it, and it stays correct: the object of a MIXED-RAND image lies
# where it was in its original image, so the original's mask is its mask.
_base_ = ['./resnet50_in9_baseline.py']

train_dataloader = dict(dataset=dict(image_dir='mixed_rand'))
