# ANN twin of hoyer_vgg_digits_cls.py: the same pretraining with BN + ReLU and no hooks.
_base_ = './hoyer_vgg_digits_cls.py'

model = dict(backbone=dict(act_cfg=dict(_delete_=True, type='ReLU')))
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
custom_hooks = []
