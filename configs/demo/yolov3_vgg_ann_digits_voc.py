# ANN twin of yolov3_hoyer_vgg_digits_voc.py (BN + ReLU, no regularizer), on the VOC-layout copy.
_base_ = './yolov3_hoyer_vgg_digits_voc.py'

relu = dict(_delete_=True, type='ReLU')
model = dict(
    backbone=dict(act_cfg=relu,
                  init_cfg=dict(checkpoint='work_dirs/demo_ann_cls/iter_800.pth')),
    neck=dict(act_cfg=relu), bbox_head=dict(act_cfg=relu))
custom_hooks = []
