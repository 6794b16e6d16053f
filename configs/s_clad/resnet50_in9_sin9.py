# Base (SIN9): the IN-9 baseline (ImageNet-pretrained ResNet-50,
# cross-entropy only, CLAD's recipe) trained on Stylized ImageNet-9, the
# texture analogue of Base (MR).
#
# Build the stylized training images first (AdaIN weights and a folder of
# style images, e.g. paintings, as Stylized-ImageNet uses):
#   python tools/data/make_stylized_in9.py data/in9 data/paintings \
#       --subset train --encoder checkpoints/adain/vgg_normalised.pth \
#       --decoder checkpoints/adain/decoder.pth
# which writes data/in9/stylized/train/<class>/<stem>.JPEG. The dataset also
# requires the foreground folder (fg_mask/train or fg_grabcut/train) that it
# checks for every training set; this pipeline does not read it.
_base_ = ['../clad/resnet50_in9_baseline.py']

train_dataloader = dict(dataset=dict(image_dir='stylized'))
