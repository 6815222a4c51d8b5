# ANN twin of ssd300_hoyer_vgg_voc0712.py: identical network with BN + ReLU, no regularizer.
_base_ = './ssd300_hoyer_vgg_voc0712.py'

relu = dict(_delete_=True, type='ReLU')
model = dict(backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
