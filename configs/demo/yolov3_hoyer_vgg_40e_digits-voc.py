# The VOC copy of the demo (yolov3_hoyer_vgg_digits-voc.py) over 40 epochs, as
# yolov3_hoyer_vgg_40e_digits.py (docs/research/accuracy.md).
_base_ = './yolov3_hoyer_vgg_digits-voc.py'
train_cfg = dict(max_epochs=40)
param_scheduler = _base_.digits_param_scheduler_40e
