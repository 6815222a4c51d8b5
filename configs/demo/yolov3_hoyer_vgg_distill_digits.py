# The demo's spiking YOLOv3 distilled from its trained ANN twin (`make demo-distill`): the same
# network and recipe as yolov3_hoyer_vgg_digits.py, plus TeacherDistillHook, which adds the mean
# squared difference of the SNN's and the frozen ANN twin's head outputs (sigmoid of the raw
# prediction maps) on each batch. The term is a per-element mean while YOLOv3's losses are batch
# sums, hence w = 1e4 (~160 at the start, ~10 % of the loss). Needs `make demo-ann` first.
_base_ = './yolov3_hoyer_vgg_digits.py'

custom_hooks = [
    *_base_.spiking_hooks,
    dict(type='TeacherDistillHook',
         teacher_config='configs/demo/yolov3_relu_vgg_digits.py',
         teacher_checkpoint='work_dirs/demo_ann/epoch_20.pth',  # written by `make demo-ann`
         transform='sigmoid', loss_weight=1e4),
]
