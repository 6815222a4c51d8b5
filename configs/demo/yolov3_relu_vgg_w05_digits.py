# ANN twin of yolov3_hoyer_vgg_w05_digits.py (_base_/relu_twin.py): the same network and
# schedule with BN + ReLU and no regularizer, its backbone from the ANN's stage 1 at half width
# (cls_relu_vgg16_w05_digits.py).
_base_ = ['./yolov3_hoyer_vgg_w05_digits.py', '../_base_/relu_twin.py']
pretrained_by = 'make demo-pretrain-w05'
model = dict(_base_.relu_twin_yolov3_demo,
             backbone=dict(_base_.relu_twin_yolov3_demo.backbone,
                           init_cfg=dict(checkpoint='work_dirs/demo_ann_cls_w05/iter_800.pth')))
custom_hooks = []
