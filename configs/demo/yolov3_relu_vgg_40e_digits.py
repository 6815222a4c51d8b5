# ANN twin of yolov3_hoyer_vgg_40e_digits.py: yolov3_relu_vgg_digits.py over 40 epochs.
_base_ = './yolov3_relu_vgg_digits.py'
train_cfg = dict(max_epochs=40)
param_scheduler = _base_.digits_param_scheduler_40e
