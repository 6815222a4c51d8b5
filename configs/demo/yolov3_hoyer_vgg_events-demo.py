# The event-camera demo (`make demo-events`): the demo's spiking YOLOv3 (yolov3_hoyer_vgg_digits.py:
# quarter-width HoyerVGG16 with the conv4_3 / conv5_3 taps and the backbone skip, the digits
# schedule) on simulated Gen1 recordings of moving digits and shapes
# (tools/dataset_converters/make_event_demo.py -> data/events_demo/, real Gen1-format files),
# read as Gen1 is read (_base_/datasets/gen1.py): a 50 ms window as a 10-channel histogram,
# halved to 152x120, from random weights, COCO mAP under the Gen1 protocol. Resize('area')
# averages 2x2 pixels and std 0.25 turns the mean back into the block's event count: the first
# conv reads whole numbers of events. Classes: digit (0) and shape (1), two as Gen1's car and pedestrian.
_base_ = ['./yolov3_hoyer_vgg_digits.py', '../_base_/datasets/gen1.py']
events_root = 'data/events_demo/'
input_size = (152, 120)  # (w, h): half of Gen1's 304x240, padded to 160x128 by the preprocessor
model = dict(
    data_preprocessor=dict(_base_.gen1_preprocessor, std=[0.25]),
    backbone=dict(in_channels=2 * _base_.gen1_bins, init_cfg=None),
    bbox_head=dict(
        num_classes=2,
        # k-means (IoU) of the training boxes at 152x120: 11-40 px high, 5-60 px wide
        anchor_generator=dict(base_sizes=[[(24, 29), (34, 30), (51, 35)],
                                          [(12, 28), (26, 20), (16, 35)],
                                          [(8, 18), (10, 21), (18, 18)]])))
demo_dataset = dict(_base_.gen1_dataset, data_root=events_root,
                    metainfo=dict(classes=('digit', 'shape')))
resize = dict(type='Resize', scale=input_size, keep_ratio=True, interpolation='area')
train_pipeline = [*_base_.gen1_load, resize, dict(type='RandomFlip', prob=0.5),
                  dict(type='PackDetInputs')]
test_pipeline = [*_base_.gen1_load, resize, _base_.gen1_pack_test]
train_dataloader = dict(dataset=dict(demo_dataset, data_prefix=dict(events='train/'),
                                     pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(
    demo_dataset, data_prefix=dict(events='val/'), test_mode=True, pipeline=test_pipeline))
val_evaluator = test_evaluator = _base_.gen1_evaluator
