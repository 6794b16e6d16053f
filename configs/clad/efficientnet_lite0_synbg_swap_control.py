# The control of CLAD+ on SynBG from ImageNet features: CLAD+ with λ = 0,
# i.e. the background-swapped positive trained with its label
# (cross-entropy on anchor and positive) and no contrastive loss. What CLAD+
# gains over it is the contrastive term's own contribution.
_base_ = ['./efficientnet_lite0_synbg_clad_plus.py']

model = dict(contrastive_head=dict(loss_weight=0.0))
