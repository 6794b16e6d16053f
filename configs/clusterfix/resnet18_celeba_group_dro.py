# The second oracle reference on CelebA (Blond_Hair, bias Male): GroupDRO
# (Sagawa et al., ICLR 2020), the ERM config trained on the robust loss
# sum_g q_g * L_g whose group weights q rise with the groups' losses (step
# size 0.01). It USES the group labels that ClusterFix does without; the
# sampler is ERM's (class-balanced batches).
_base_ = ['./resnet18_celeba_erm.py']

model = dict(type='GroupDROClassifier', num_groups=4, step_size=0.01)
train_dataloader = dict(dataset=dict(pipeline={{_base_.group_dro_train_pipeline}}))
