# One-time-step spiking SSD300 on Prophesee Gen1: the network of ssd300_hoyer_vgg.py reading a
# 50 ms window of events as a 10-channel histogram (_base_/datasets/gen1.py) resized to 300x300
# as SSD resizes images, trained from random weights, COCO mAP under the Gen1 protocol.
#   python tools/train.py configs/ssd300_hoyer_vgg_gen1.py   (data under data/gen1/)
_base_ = ['./ssd300_hoyer_vgg.py', '_base_/datasets/gen1.py']
pretrained_by = None
model = dict(
    data_preprocessor=dict(_base_.gen1_preprocessor),
    backbone=dict(in_channels=2 * _base_.gen1_bins, init_cfg=None),
    bbox_head=dict(num_classes=2))
resize = dict(type='Resize', scale=(300, 300), keep_ratio=False, interpolation='area')
train_pipeline = [*_base_.gen1_load, resize, dict(type='RandomFlip', prob=0.5),
                  dict(type='PackDetInputs')]
test_pipeline = [*_base_.gen1_load, resize, _base_.gen1_pack_test]
# inside SSD300's RepeatDataset (5 passes an epoch, as its COCO schedule counts them)
train_dataloader = dict(dataset=dict(dataset=dict(_base_.gen1_train, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(_base_.gen1_val, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(_base_.gen1_test, pipeline=test_pipeline))
val_evaluator = test_evaluator = _base_.gen1_evaluator
