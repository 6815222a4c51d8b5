# ANN twin of retinanet_hoyer_r50-fpn.py (_base_/relu_twin.py): BN + ReLU, no regularizer.
_base_ = ['./retinanet_hoyer_r50-fpn.py', '_base_/relu_twin.py']
pretrained_by = _base_.r50_converted_by
model = _base_.relu_twin_r50
custom_hooks = []
