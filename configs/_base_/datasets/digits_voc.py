# The VOC-layout copy of the digits demo set (data/digits_det/VOCdevkit/VOC2007, written by
# make_digits_detection.py): MMDetection's VOCDataset reads the XML annotations, VOCMetric
# reports VOC2007's 11-point mAP (pascal_voc/*) and the area-under-curve mAP of VOC2010+
# (pascal_voc_area/*), IoU 0.5. Variables a demo's *_digits-voc.py variant injects over its
# COCO-layout loaders (names apart from digits_coco.py's, so both can be bases).
digits_voc = dict(_delete_=True, type='VOCDataset', data_root='data/digits_det/VOCdevkit/',
                  metainfo=dict(classes=('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')),
                  data_prefix=dict(sub_data_root='VOC2007/'))
digits_voc_train = dict(**digits_voc, ann_file='VOC2007/ImageSets/Main/train.txt',
                        filter_cfg=dict(filter_empty_gt=True, min_size=4))
digits_voc_val = dict(**digits_voc, ann_file='VOC2007/ImageSets/Main/val.txt', test_mode=True)
digits_voc_evaluator = [
    dict(type='VOCMetric', metric='mAP', eval_mode='11points'),
    dict(type='VOCMetric', metric='mAP', eval_mode='area', prefix='pascal_voc_area'),
]
