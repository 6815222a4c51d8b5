# ssd_hoyer_vgg_digits.py trained and evaluated on the VOC-layout copy of the digits demo set
# (data/digits_det/VOCdevkit/VOC2007, written by make_digits_detection.py): MMDetection's
# VOCDataset reads the XML annotations, VOCMetric reports VOC2007's 11-point mAP (pascal_voc/*)
# and the area-under-curve mAP of VOC2010+ (pascal_voc_area/*), IoU 0.5.
_base_ = './ssd_hoyer_vgg_digits.py'

voc = dict(type='VOCDataset', data_root='data/digits_det/VOCdevkit/',
           metainfo={{_base_.metainfo}}, data_prefix=dict(sub_data_root='VOC2007/'))
train_dataloader = dict(
    dataset=dict(_delete_=True, **voc, ann_file='VOC2007/ImageSets/Main/train.txt',
                 filter_cfg=dict(filter_empty_gt=True, min_size=4),
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, **voc, ann_file='VOC2007/ImageSets/Main/val.txt',
                 test_mode=True, pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='VOCMetric', metric='mAP', eval_mode='11points'),
    dict(type='VOCMetric', metric='mAP', eval_mode='area', prefix='pascal_voc_area'),
]
test_evaluator = val_evaluator
