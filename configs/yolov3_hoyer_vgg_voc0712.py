# Spiking YOLOv3 (yolov3_hoyer_vgg.py) on Pascal VOC 07+12 trainval, evaluated on VOC2007 test
# with VOCMetric (11-point mAP). MMDetection ships no YOLOv3 VOC config: this delta swaps the
# COCO data for VOCDataset with YOLOv3's own pipelines.
_base_ = './yolov3_hoyer_vgg.py'

data_root = 'data/VOCdevkit/'
voc = dict(type='VOCDataset', data_root=data_root)
model = dict(bbox_head=dict(num_classes=20))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=3,
        dataset=dict(
            type='ConcatDataset',
            ignore_keys=['dataset_type'],  # VOC2007/VOC2012 differ only in this meta key
            datasets=[
                dict(**voc, ann_file='VOC2007/ImageSets/Main/trainval.txt',
                     data_prefix=dict(sub_data_root='VOC2007/'),
                     filter_cfg=dict(filter_empty_gt=True, min_size=32),
                     pipeline=_base_.train_pipeline),
                dict(**voc, ann_file='VOC2012/ImageSets/Main/trainval.txt',
                     data_prefix=dict(sub_data_root='VOC2012/'),
                     filter_cfg=dict(filter_empty_gt=True, min_size=32),
                     pipeline=_base_.train_pipeline),
            ])))
val_dataloader = dict(
    dataset=dict(
        _delete_=True, **voc, ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'), test_mode=True,
        pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator
