# ANN twin of cls_hoyer_vgg16_w05_digits.py: cls_relu_vgg16_digits.py at half VGG16's width.
_base_ = './cls_relu_vgg16_digits.py'
w = 0.5
model = dict(backbone=dict(widen_factor=w), head=dict(in_channels=int(512 * w)))
