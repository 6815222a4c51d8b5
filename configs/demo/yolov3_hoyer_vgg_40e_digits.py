# The demo YOLOv3 with 40 epochs instead of 20 (the cosine over 40): the budget at which its
# SNN/ANN ratios come closest to the accuracy goals at a quarter width (docs/research/accuracy.md:
# 0.888 mAP, 0.920 mAP@0.75, 0.981 mAP@0.5, 0.892 mAP_s at 23.9x less energy, two seeds of each
# network); ~2x `make demo`'s CPU time. Its twin: yolov3_relu_vgg_40e_digits.py.
_base_ = './yolov3_hoyer_vgg_digits.py'
train_cfg = dict(max_epochs=40)
param_scheduler = _base_.digits_param_scheduler_40e
