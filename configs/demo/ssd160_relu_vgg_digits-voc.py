# ANN twin of ssd160_hoyer_vgg_digits-voc.py: ssd160_relu_vgg_digits.py on the VOC-layout copy.
_base_ = ['./ssd160_hoyer_vgg_digits-voc.py', '../_base_/relu_twin.py']
pretrained_by = 'make demo-pretrain-ann'
model = _base_.relu_twin_vgg_demo
custom_hooks = _base_.ssd_checks
