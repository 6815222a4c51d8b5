# Stage 1, start (d) of docs/results/which_start.md: the ANN twin's stage-1 classifier
# (cls_relu_vgg16_digits.py, BN + ReLU) converted into the SNN and fine-tuned as one for a quarter
# of the SNN's stage-1 budget (200 iterations). The detector then starts from this backbone.
# Run cls_relu_vgg16_digits.py first (`make demo-pretrain-ann`).
_base_ = './cls_hoyer_vgg16_digits.py'

# the whole classifier (backbone + head) from the ANN: θ and the running thresholds are not in
# it and start at their initial 1.0
model = dict(init_cfg=dict(type='Pretrained', checkpoint='work_dirs/demo_ann_cls/iter_800.pth'))
max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
