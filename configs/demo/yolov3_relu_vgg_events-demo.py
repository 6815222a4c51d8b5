# ANN twin of yolov3_hoyer_vgg_events-demo.py: the identical network, data and schedule with
# BN + ReLU, no regularizer, also from random weights.
_base_ = ['./yolov3_hoyer_vgg_events-demo.py', '../_base_/relu_twin.py']
model = dict(backbone=dict(act_cfg=_base_.relu), neck=dict(act_cfg=_base_.relu),
             bbox_head=dict(act_cfg=_base_.relu))
custom_hooks = []
