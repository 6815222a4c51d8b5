# Prophesee's Gen1 automotive event-camera set (data/gen1/{train,val,test}/*_td.dat +
# *_bbox.npy; docs/guides/events.md): PropheseeDetDataset, a 50 ms window of events before each
# labelled timestamp as a 2x5-bin event histogram (10 channels of counts), COCO mAP under the
# Gen1 protocol (PropheseeCocoMetric). Variables the *_gen1 configs inject over their
# MMDetection base's loaders (names apart from MMDetection's keys, so it combines as a base):
#   train_dataloader = dict(dataset=dict(_base_.gen1_train, pipeline=...))
gen1_root = 'data/gen1/'
gen1_window_us = 50_000  # RVT's 50 ms windows
gen1_bins = 5  # time bins per polarity: in_channels = 2 * gen1_bins
gen1_load = [dict(type='LoadPropheseeEvents', window_us=gen1_window_us),
             dict(type='EventHistogram', num_bins=gen1_bins),
             dict(type='LoadAnnotations', with_bbox=True)]
# the metric reads the ground truth from each sample (instances): CocoMetric's in-memory route
gen1_pack_test = dict(type='PackDetInputs',
                      meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                                 'timestamp', 'instances'))
gen1_dataset = dict(_delete_=True, type='PropheseeDetDataset', camera='gen1', data_root=gen1_root)
gen1_train = dict(gen1_dataset, data_prefix=dict(events='train/'))
gen1_val = dict(gen1_dataset, data_prefix=dict(events='val/'), test_mode=True)
gen1_test = dict(gen1_dataset, data_prefix=dict(events='test/'), test_mode=True)
gen1_evaluator = dict(_delete_=True, type='PropheseeCocoMetric', camera='gen1')
# the first conv reads event counts: no mean, no colour conversion
gen1_preprocessor = dict(mean=[0.], std=[1.], bgr_to_rgb=False)
