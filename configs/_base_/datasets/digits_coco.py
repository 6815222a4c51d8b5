# The bundled digits demo set in COCO layout (data/digits_det, `make demo-data`): 10 classes,
# 1000 train / 200 val images. A demo detector takes its dataset keys from MMDetection's
# packaged config, so this file holds variables the demo configs inject:
#   train_dataloader = dict(dataset=dict(_base_.digits_train, pipeline=...))
digits_root = 'data/digits_det/'
digits_metainfo = dict(classes=('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'))
digits_train = dict(_delete_=True, type='CocoDataset', data_root=digits_root, metainfo=digits_metainfo,
                    ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
                    filter_cfg=dict(filter_empty_gt=True, min_size=4))
digits_val = dict(_delete_=True, type='CocoDataset', data_root=digits_root, metainfo=digits_metainfo,
                  ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'),
                  test_mode=True)
digits_evaluator = dict(type='CocoMetric', metric='bbox',
                        ann_file=digits_root + 'annotations/instances_val.json')
