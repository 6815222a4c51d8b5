# ANN twin of yolov3_hoyer_vgg_digits.py: identical network and schedule, BN + ReLU instead of
# spiking neurons, no Hoyer regularizer; its backbone is pretrained the same way
# (vgg_ann_digits_cls.py).
_base_ = './yolov3_hoyer_vgg_digits.py'

pretrained_by = 'make demo-pretrain-ann'
relu = dict(_delete_=True, type='ReLU')  # replace the neuron config, keep nothing of it
model = dict(
    backbone=dict(act_cfg=relu,
                  init_cfg=dict(checkpoint='work_dirs/demo_ann_cls/iter_800.pth')),
    neck=dict(act_cfg=relu), bbox_head=dict(act_cfg=relu))
custom_hooks = []
