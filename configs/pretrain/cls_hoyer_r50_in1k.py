# Stage 1 at full scale for the ResNet detectors (faster-rcnn_hoyer_r50-fpn.py,
# retinanet_hoyer_r50-fpn.py): the spiking pre-activation HoyerResNet-50 on ImageNet-1k with
# MMPretrain's ImageNet dataset, standard pipeline, ImageClassifier and Accuracy
# (_base_/pretrain_spiking.py). The authors' detection fork starts its Faster R-CNN from exactly
# such a checkpoint.
#
#   bash tools/dist_train.sh configs/pretrain/cls_hoyer_r50_in1k.py 4   # 4 GPUs × 64
#
# Settings of the authors' ResNet-50 ImageNet run (shared/paper-notes: SGD lr 0.2, batch
# 64 × 4, weight decay 5e-4, 400 epochs, λ = 2e-9; 66.0 % top-1 with ~24 % of spike outputs
# ones); lr ÷5 at 60/80/90 % as their step schedule.
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs64.py',
          'mmpretrain::_base_/default_runtime.py', '../_base_/pretrain_spiking.py']

# all four stages, as the detectors read them: the BN + neuron that turns each stage's residual
# stream into the spikes the neck reads (out_mode='spike') is pretrained too, so the detector
# finds every backbone tensor in the checkpoint; the head reads stage 4
model = dict(backbone=dict(type='mmdet.HoyerResNet', depth=50, out_indices=(0, 1, 2, 3),
                           act_cfg=_base_.spike),
             head=dict(in_channels=2048))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=_base_.theta_no_decay)
param_scheduler = [
    _base_.warmup,
    dict(type='MultiStepLR', by_epoch=True, milestones=[240, 320, 360], gamma=0.2),
]
train_cfg = dict(by_epoch=True, max_epochs=400, val_interval=10)
auto_scale_lr = dict(base_batch_size=256)  # 4 GPUs × 64
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
custom_hooks = [dict(_base_.custom_hooks[0], loss_weight=2e-9),  # λ of the authors' ResNet-50
                *_base_.custom_hooks[1:]]
