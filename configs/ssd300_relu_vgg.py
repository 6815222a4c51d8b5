# ANN twin of ssd300_hoyer_vgg.py (_base_/relu_twin.py): BN + ReLU, no regularizer.
_base_ = ['./ssd300_hoyer_vgg.py', '_base_/relu_twin.py']
pretrained_by = _base_.vgg16_bn_converted_by
model = _base_.relu_twin_vgg
custom_hooks = _base_.ssd_checks
