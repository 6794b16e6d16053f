# BGAugment (Kobs & Hotho, ICMV 2022) on
# efficientnet_lite0_synsop_normalized_softmax.py: every training image on a random
# background of SynSOP's training pool through its soft matte, every step. Nothing else
# changes.
_base_ = ['./efficientnet_lite0_synsop_normalized_softmax.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.bgaugment_train_pipeline}}))
