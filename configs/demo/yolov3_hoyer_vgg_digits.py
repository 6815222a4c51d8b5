# CPU-sized spiking YOLOv3 for the bundled digits demo set (tools/dataset_converters/
# make_digits_detection.py): the network of configs/yolov3_hoyer_vgg.py (taps and backbone skip
# included) with a quarter-width HoyerVGG16, a half-width neck and head (binary maps carry less
# per channel than ReLU ones: docs/research/spike_warmup.md), 128 px input, 10 classes and their
# anchors; the demo data and schedule of configs/_base_/. Stage 2 of the demo: the backbone
# starts from stage 1 (cls_hoyer_vgg16_digits.py), as the authors' detectors start from a
# spiking backbone. Nothing else differs from the full network (a test checks it).
_base_ = ['../yolov3_hoyer_vgg.py', '../_base_/datasets/digits_coco.py',
          '../_base_/schedules/digits_20e.py']

pretrained = 'work_dirs/demo_snn_cls/iter_800.pth'  # written by stage 1 (`make demo-pretrain`)
pretrained_by = 'make demo-pretrain'
input_size = (128, 128)
w, wh = 0.25, 0.5  # widen factors of the backbone; of the neck and head
model = dict(
    # stage 1's normalisation ([0, 255] -> [0, 1], RGB; cls_hoyer_vgg16_digits.py)
    data_preprocessor=dict(mean=[0, 0, 0], std=[255., 255., 255.]),
    backbone=dict(widen_factor=w, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[int(512 * w)] * 3,
              out_channels=[int(512 * wh), int(256 * wh), int(128 * wh)]),
    bbox_head=dict(
        num_classes=10,
        # the neck's maps followed by the backbone's (backbone_skip)
        in_channels=[int(512 * wh) + int(512 * w), int(256 * wh) + int(512 * w),
                     int(128 * wh) + int(512 * w)],
        out_channels=[int(1024 * wh), int(512 * wh), int(256 * wh)],
        # digits are 13-44 px high (5-37 px wide) after resizing to 128 px
        anchor_generator=dict(base_sizes=[[(26, 38), (30, 44), (36, 50)],
                                          [(18, 26), (21, 30), (24, 34)],
                                          [(10, 14), (13, 18), (15, 22)]])),
    test_cfg=dict(score_thr=0.05, conf_thr=0.005, max_per_img=50))

# no flips (digits are not mirror-symmetric), no crops that cut digits; scales up to the test
# size only: a long side above 128 px pads the whole batch to 160 px (YOLOv3 pads to multiples
# of 32), i.e. 1.56x the pixels per iteration
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(112, 112), input_size], keep_ratio=True),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
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
