# ANN twin of yolov3_hoyer_vgg_digits.py (_base_/relu_twin.py): identical network and schedule,
# BN + ReLU, no regularizer; its backbone from the ANN's stage 1 (cls_relu_vgg16_digits.py).
_base_ = ['./yolov3_hoyer_vgg_digits.py', '../_base_/relu_twin.py']
pretrained_by = 'make demo-pretrain-ann'
model = _base_.relu_twin_yolov3_demo
custom_hooks = []
