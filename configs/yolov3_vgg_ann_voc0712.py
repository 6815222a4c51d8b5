# ANN twin of yolov3_hoyer_vgg_voc0712.py: identical network with BN + ReLU, no regularizer.
_base_ = './yolov3_hoyer_vgg_voc0712.py'

relu = dict(_delete_=True, type='ReLU')
model = dict(
    backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu), bbox_head=dict(act_cfg=relu))
custom_hooks = []
