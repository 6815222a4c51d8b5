# ANN twin of yolov3_hoyer_vgg_voc0712.py (_base_/relu_twin.py): BN + ReLU, no regularizer.
_base_ = ['./yolov3_hoyer_vgg_voc0712.py', '_base_/relu_twin.py']
pretrained_by = _base_.vgg16_bn_converted_by
model = _base_.relu_twin_yolov3
custom_hooks = []
