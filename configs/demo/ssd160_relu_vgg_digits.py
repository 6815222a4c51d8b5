# ANN twin of ssd160_hoyer_vgg_digits.py (_base_/relu_twin.py): identical network and schedule,
# BN + ReLU, no regularizer; its backbone from the ANN's stage 1 (cls_relu_vgg16_digits.py).
_base_ = ['./ssd160_hoyer_vgg_digits.py', '../_base_/relu_twin.py']
pretrained_by = 'make demo-pretrain-ann'
model = _base_.relu_twin_vgg_demo
custom_hooks = _base_.ssd_checks
