# The demo SSD (ssd160_hoyer_vgg_digits.py) over 40 epochs, the cosine over 40: the budget at which
# its COCO accuracy goals hold (docs/research/accuracy.md); its twin:
# ssd160_relu_vgg_40e_digits.py.
_base_ = './ssd160_hoyer_vgg_digits.py'
train_cfg = dict(max_epochs=40)
param_scheduler = _base_.digits_param_scheduler_40e
