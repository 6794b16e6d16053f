# S-CLAD, the texture variant of CLAD (BMVC 2022), on ImageNet-9: the CLAD
# recipe (ImageNet-pretrained ResNet-50, Adam, batch 64, 224 px, λ = 1,
# τ = 0.2, N = 32) with texture-swapped pairs. The positive is a second crop
# of the anchor re-textured by AdaIN with a training image of another class;
# the negative dictionary is keyed by that style image's class.
# Paper (Table 7): ORIGINAL 95.1, STYLIZED-IN9 74.4, IN9-SKETCH 61.0.
#
# AdaIN's weights are not downloaded: get vgg_normalised.pth and decoder.pth
# from github.com/naoto0804/pytorch-AdaIN ("Download models") and put them
# under checkpoints/adain/, or override the two paths below. Only training
# reads them; testing and inference with this config do not.
_base_ = ['../clad/resnet50_in9_baseline.py']

adain_encoder = 'checkpoints/adain/vgg_normalised.pth'
adain_decoder = 'checkpoints/adain/decoder.pth'

# MultiView gives img = [anchor view, content view], each with its own crop,
# flip and colour jitter (the base's train_augmentation); LoadStyleImage
# appends a training image of another class from the dataset's own
# original/train (it follows an overridden data_root) as the style; the
# preprocessor stylizes the content view on the model's device.
sclad_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[{{_base_.train_augmentation}}]),
    dict(type='LoadStyleImage'),
    dict(type='PackInputs', algorithm_keys=('pos_texture_label',)),
]
train_dataloader = dict(dataset=dict(pipeline=sclad_train_pipeline))

data_preprocessor = dict(
    type='StylizingDataPreprocessor',
    stylizer=dict(
        type='AdaINStylizer',
        encoder_checkpoint=adain_encoder,
        decoder_checkpoint=adain_decoder,
        alpha=1.0,
    ),
)

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    # feat_dim follows head.in_channels (2048).
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32),
    dictionary_key='pos_texture_label',
    with_pos_loss=False,
)

custom_hooks = [
    dict(type='DeterministicRandomStateHook'),  # as in the schedule base
    dict(type='NegativeDictionaryHook'),
]
