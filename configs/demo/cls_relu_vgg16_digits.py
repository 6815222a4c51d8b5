# ANN twin of cls_hoyer_vgg16_digits.py: the same pretraining with BN + ReLU and no hooks.
_base_ = './cls_hoyer_vgg16_digits.py'

model = dict(backbone=dict(act_cfg=dict(_delete_=True, type='ReLU')))
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
custom_hooks = []
