# ANN twin of faster-rcnn_hoyer-r50_fpn_1x_coco.py: the identical pre-activation ResNet-50 +
# FPN with BN + ReLU instead of spiking neurons, no Hoyer regularizer.
_base_ = './faster-rcnn_hoyer-r50_fpn_1x_coco.py'

relu = dict(_delete_=True, type='ReLU')
model = dict(backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu))
custom_hooks = []
