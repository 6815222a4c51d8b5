# Stage 1 of the demo: pretrain the quarter-width spiking HoyerVGG16 (membrane shortcuts, the
# class default) on digit crops taken
# from the *training* split's boxes (32 px, GAP + linear classifier), with the Hoyer
# regularizer. Stands in for the authors' ImageNet-pretrained spiking backbone, from which
# their detectors start. Stage 2 (yolov3_hoyer_vgg_digits.py) loads the backbone weights.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['mmdet_hoyer'], allow_failed_imports=False)

data_root = 'data/digits_det/'
classes = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)

model = dict(
    type='BackboneClassifier',
    backbone=dict(type='HoyerVGG', depth=16, widen_factor=0.25, out_indices=(4, ),
                  act_cfg=spike),
    num_classes=len(classes),
    # the detector's mean/std (mmdet's YOLOv3 preprocessor: [0, 255] → [0, 1]); RGB crops
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0, 0, 0],
                           std=[255., 255., 255.]))

crops = dict(type='BoxCropsDataset', data_root=data_root, classes=classes, crop_size=32,
             context=1.15)
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(**crops, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), jitter=0.1))
val_dataloader = dict(
    batch_size=256,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**crops, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/')))
val_evaluator = dict(type='ClassificationAccuracy')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

max_iters = 800
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
# binary spikes from the first iteration: HoyerVGG's membrane shortcuts (its default) learn
# without the warm-up the plain stack needed (docs/accuracy.md)
custom_hooks = [
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=50),
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
