# ANN twin of ssd_hoyer_vgg_digits.py: identical network and schedule, BN + ReLU instead of
# spiking neurons, no Hoyer regularizer; backbone from the ANN's stage 1 (vgg_ann_digits_cls.py).
_base_ = './ssd_hoyer_vgg_digits.py'

pretrained_by = 'make demo-pretrain-ann'
relu = dict(_delete_=True, type='ReLU')
model = dict(
    backbone=dict(act_cfg=relu,
                  init_cfg=dict(checkpoint='work_dirs/demo_ann_cls/iter_800.pth')),
    neck=dict(act_cfg=relu))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
