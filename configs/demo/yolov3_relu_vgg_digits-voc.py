# ANN twin of yolov3_hoyer_vgg_digits-voc.py: yolov3_relu_vgg_digits.py on the VOC-layout copy.
_base_ = ['./yolov3_hoyer_vgg_digits-voc.py', '../_base_/relu_twin.py']
pretrained_by = 'make demo-pretrain-ann'
model = _base_.relu_twin_yolov3_demo
custom_hooks = []
