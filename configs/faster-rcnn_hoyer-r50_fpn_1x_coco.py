# Spiking Faster R-CNN R50-FPN on COCO (1x): mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py with the spiking
# pre-activation HoyerResNet-50 (out_mode='spike': every returned stage through BN + HoyerSpike)
# and HoyerSpike in the FPN's convs; rpn_head (RPNHead) and roi_head.bbox_head (Shared2FCBBoxHead) take no act_cfg and stay analog
# (`python tools/misc/spikify_config.py mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py` writes
# the same network and lists what it cannot make spiking).
# Stage 2 of the recipe (docs/scale.md): the backbone starts from the spiking HoyerResNet-50
# that stage 1 pretrained on ImageNet, as the authors' detection fork starts its Faster R-CNN
# from their ImageNet SNN checkpoint (1x schedule, SGD 0.02, λ = 2e-9 as their ResNet-50).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmdet_hoyer'], allow_failed_imports=False)

# stage 1 writes this checkpoint; tools/train.py names the command when it is missing. A
# deliberate start from random weights: --cfg-options model.backbone.init_cfg=None
pretrained = 'work_dirs/cls_hoyer_resnet50_in1k/epoch_400.pth'
pretrained_by = 'bash tools/dist_train.sh configs/pretrain/cls_hoyer_resnet50_in1k.py 4'

spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
model = dict(
    backbone=dict(
        _delete_=True, type='HoyerResNet', depth=50, out_indices=(0, 1, 2, 3), act_cfg=spike,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(act_cfg=spike))

# thresholds θ get no weight decay (they are clipping thresholds, not weights)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))
custom_hooks = [
    dict(type='HoyerRegularizerHook', loss_weight=2e-9),  # λ of the authors' ResNet-50
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
