# ANN twin of ssd160_hoyer_vgg_40e_digits.py: ssd160_relu_vgg_digits.py over 40 epochs.
_base_ = './ssd160_relu_vgg_digits.py'
train_cfg = dict(max_epochs=40)
param_scheduler = _base_.digits_param_scheduler_40e
