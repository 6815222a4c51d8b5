# CPU-sized spiking SSD for the bundled digits demo set: a quarter-width HoyerSSDVGG16
# (conv4_3 + fc7 spike maps) and three spiking extra levels at 160 px input (SSD300's last
# level does not fit), 10 classes. Like the YOLOv3 demo, the backbone starts from stage 1
# (hoyer_vgg_digits_cls.py): HoyerSSDVGG's stages 0-4 have HoyerVGG's parameter names, so the
# crop-pretrained checkpoint loads into them; fc6/fc7, the neck and the head train from scratch.
_base_ = '../ssd300_hoyer_vgg.py'

data_root = 'data/digits_det/'
metainfo = dict(classes=('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'))
input_size = 160
w = 0.25
levels = [int(512 * w), int(1024 * w), int(512 * w), int(256 * w), int(256 * w)]
pretrained = 'work_dirs/demo_snn_cls/iter_800.pth'  # written by stage 1 (`make demo-pretrain`)
pretrained_by = 'make demo-pretrain'

model = dict(
    # stage 1's normalisation ([0, 255] -> [0, 1], RGB; hoyer_vgg_digits_cls.py)
    data_preprocessor=dict(mean=[0, 0, 0], std=[255., 255., 255.]),
    backbone=dict(
        widen_factor=w,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=levels[:2], out_channels=levels,
              level_strides=(2, 2, 1), level_paddings=(1, 1, 0)),  # 20², 10², 5², 3², 1²
    bbox_head=dict(
        in_channels=levels,
        num_classes=10,
        # digits are ~15-60 px after resizing to 160 px
        anchor_generator=dict(
            _delete_=True, type='SSDAnchorGenerator', scale_major=False,
            input_size=input_size, strides=[8, 16, 32, 64, 160],
            ratios=[[2], [2, 3], [2, 3], [2], [2]],
            min_sizes=[12, 24, 48, 80, 120], max_sizes=[24, 48, 80, 120, 160])),
    test_cfg=dict(score_thr=0.05, max_per_img=50))

# no flips (digits are not mirror-symmetric), no crops that cut digits
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

# the YOLOv3 demo's schedule: AdamW, warm-up then cosine decay, 20 epochs (the SNN converges
# more slowly than its twin: SNN/ANN mAP@0.5 0.69 at 10 epochs, 0.89 at 20; docs/accuracy.md)
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, eta_min=2e-5)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=16)
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=20),
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
