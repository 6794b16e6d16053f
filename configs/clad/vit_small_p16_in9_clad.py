# CLAD (BMVC 2022) on ImageNet-9 with the pretrained ViT-S/16 (DeiT-S
# weights): the baseline's recipe (vit_small_p16_in9_baseline.py) plus
# λ·InfoNCE (λ = 1, τ = 0.2, cosine similarity on head.pre_logits, the 384-d
# class token) against N = 32 negatives per background class, as the paper's
# ResNet-50 config (resnet50_in9_clad.py). Smoke-tested only: not trained on
# IN-9 here.
_base_ = ['./vit_small_p16_in9_baseline.py']

# Background-swapped positives: the dataset base's CLAD pipeline.
train_dataloader = dict(dataset=dict(pipeline={{_base_.clad_train_pipeline}}))

model = dict(
    type='CLADClassifier',
    contrastive_head=dict(type='InfoNCEHead', temperature=0.2, loss_weight=1.0),
    # feat_dim follows the width of head.pre_logits (384, the class token).
    dictionary=dict(type='NegativeDictionary', num_keys=9, queue_size=32),
    with_pos_loss=False,
)

custom_hooks = [
    dict(type='DeterministicRandomStateHook'),  # as in the schedule base
    dict(type='NegativeDictionaryHook'),
]
