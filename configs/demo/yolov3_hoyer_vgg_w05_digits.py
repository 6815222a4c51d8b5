# The demo YOLOv3 (taps and backbone skip) with its backbone at half VGG16's width instead of a
# quarter; neck and head keep the demo's widths, the head's bridges read the wider skip. Width
# and skip add for the SNN (docs/research/accuracy.md). Stage 1 at the same
# width: cls_hoyer_vgg16_w05_digits.py (`make demo-pretrain-w05`). ~2.3x `make demo`'s CPU time
# per iteration; its twin: yolov3_relu_vgg_w05_digits.py.
_base_ = './yolov3_hoyer_vgg_digits.py'
pretrained = 'work_dirs/demo_snn_cls_w05/iter_800.pth'
pretrained_by = 'make demo-pretrain-w05'
w, wh = 0.5, 0.5  # widen factors of the backbone; of the neck and head (the demo's)
model = dict(
    backbone=dict(widen_factor=w, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[int(512 * w)] * 3),
    # the neck's maps followed by the backbone's (backbone_skip)
    bbox_head=dict(in_channels=[int(512 * wh) + int(512 * w), int(256 * wh) + int(512 * w),
                                int(128 * wh) + int(512 * w)]))
