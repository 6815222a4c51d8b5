# The half-width demo (yolov3_hoyer_vgg_w05_digits.py) on the VOC-layout digits
# (_base_/datasets/digits_voc.py: VOCDataset, VOCMetric 11-point and area mAP), as
# yolov3_hoyer_vgg_digits-voc.py is for the quarter width (docs/research/accuracy.md). Its twin: yolov3_relu_vgg_w05_digits-voc.py; `make demo-w05-voc`.
_base_ = ['./yolov3_hoyer_vgg_w05_digits.py', '../_base_/datasets/digits_voc.py']
train_dataloader = dict(dataset=dict(_base_.digits_voc_train, pipeline=_base_.train_pipeline))
val_dataloader = test_dataloader = dict(
    dataset=dict(_base_.digits_voc_val, pipeline=_base_.test_pipeline))
val_evaluator = test_evaluator = _base_.digits_voc_evaluator
