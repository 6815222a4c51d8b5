# Stage 1 of the demo: configs/pretrain/cls_hoyer_vgg16_in1k.py (the full-scale ImageNet
# pretraining, same MMPretrain classes) shrunk to the digits: the quarter-width spiking
# HoyerVGG16 (membrane shortcuts, the class default) learns to classify square crops of the
# training split's boxes (data/digits_det/crops, ImageNet layout, written by `make demo-data`)
# at 32 px, with the Hoyer regularizer. Stage 2 (yolov3_hoyer_vgg_digits.py,
# ssd160_hoyer_vgg_digits.py) loads the backbone weights. ~3 min on 2 CPU cores.
_base_ = '../pretrain/cls_hoyer_vgg16_in1k.py'

data_root = 'data/digits_det/crops/'
classes = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
w = 0.25
model = dict(
    backbone=dict(widen_factor=w),
    head=dict(num_classes=len(classes), in_channels=int(512 * w), topk=(1, )))
# the demo detector's normalisation (mmdet's YOLOv3 preprocessor: [0, 255] -> [0, 1], RGB)
data_preprocessor = dict(num_classes=len(classes), mean=[0, 0, 0], std=[255., 255., 255.])

# crops are written with 1.3x the box's longer side at 40 px; the random resized crop keeps
# 1.15x (+-10 % in side, shifted within the margin) at 32 px, val the centred 1.15x. No flips:
# digits are not mirror-symmetric.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.634, 0.958),
         aspect_ratio_range=(0.9, 1.1), backend='cv2'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short', backend='cv2'),  # 36 * 1.15 / 1.3 ~ 32
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
dataset = dict(type='ImageNet', data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=64, num_workers=1, persistent_workers=True,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256, num_workers=1, persistent_workers=True,
    dataset=dict(**dataset, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

max_iters = 800
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         eta_min=1e-5)
]
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
# the full config's hooks (regularizer, recomputation, firing rates): binary spikes from the
# first iteration, HoyerVGG's membrane shortcuts learn without a warm-up (docs/research/)

