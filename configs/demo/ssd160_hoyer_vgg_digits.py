# CPU-sized spiking SSD for the bundled digits demo set: configs/ssd300_hoyer_vgg.py with a
# quarter-width HoyerSSDVGG16 (conv4_3 + fc7 spike maps) and three spiking extra levels at 160
# px input (SSD300's last level does not fit), 10 classes; the demo data and schedule of
# configs/_base_/. Like the YOLOv3 demo, the backbone starts from stage 1
# (cls_hoyer_vgg16_digits.py): HoyerSSDVGG's stages 0-4 have HoyerVGG's parameter names, so the
# crop-pretrained checkpoint loads into them; fc6/fc7, the neck and the head train from scratch.
_base_ = ['../ssd300_hoyer_vgg.py', '../_base_/datasets/digits_coco.py',
          '../_base_/schedules/digits_20e.py']

pretrained = 'work_dirs/demo_snn_cls/iter_800.pth'  # written by stage 1 (`make demo-pretrain`)
pretrained_by = 'make demo-pretrain'
input_size = 160
w = 0.25
levels = [int(512 * w), int(1024 * w), int(512 * w), int(256 * w), int(256 * w)]
model = dict(
    # stage 1's normalisation ([0, 255] -> [0, 1], RGB; cls_hoyer_vgg16_digits.py)
    data_preprocessor=dict(mean=[0, 0, 0], std=[255., 255., 255.]),
    backbone=dict(widen_factor=w, init_cfg=dict(checkpoint=pretrained)),
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
# SSD300's COCO loader repeats its dataset 5 times (RepeatDataset): the demo reads it once
train_dataloader = dict(batch_size=16, num_workers=1,
                        dataset=dict(_base_.digits_train, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(batch_size=8, num_workers=1,
                                        dataset=dict(_base_.digits_val, pipeline=test_pipeline))
val_evaluator = test_evaluator = _base_.digits_evaluator
train_cfg = _base_.digits_train_cfg
optim_wrapper = _base_.digits_optim_wrapper
param_scheduler = _base_.digits_param_scheduler
default_hooks = _base_.digits_default_hooks
auto_scale_lr = _base_.digits_auto_scale_lr
