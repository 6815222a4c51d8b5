# One-time-step spiking YOLOv3 on Prophesee Gen1 (304x240 events, car and pedestrian): the
# network of yolov3_hoyer_vgg.py reading a 50 ms window of events as a 10-channel histogram
# (_base_/datasets/gen1.py), trained from random weights (an event camera has no ImageNet
# stage 1; the first conv reads event counts), COCO mAP under the Gen1 protocol.
#   python tools/train.py configs/yolov3_hoyer_vgg_gen1.py   (data under data/gen1/)
_base_ = ['./yolov3_hoyer_vgg.py', '_base_/datasets/gen1.py']
pretrained_by = None
model = dict(
    data_preprocessor=dict(_base_.gen1_preprocessor, pad_size_divisor=32),
    backbone=dict(in_channels=2 * _base_.gen1_bins, init_cfg=None),
    bbox_head=dict(num_classes=2))
train_pipeline = [*_base_.gen1_load,
                  dict(type='RandomFlip', prob=0.5),  # horizontal: events mirror exactly
                  dict(type='PackDetInputs')]
test_pipeline = [*_base_.gen1_load, _base_.gen1_pack_test]
train_dataloader = dict(dataset=dict(_base_.gen1_train, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(_base_.gen1_val, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(_base_.gen1_test, pipeline=test_pipeline))
val_evaluator = test_evaluator = _base_.gen1_evaluator
