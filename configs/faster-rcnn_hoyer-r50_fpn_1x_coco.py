# Spiking version of mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py, written by
# tools/misc/spikify_config.py. Changes:
#   backbone: frozen_stages=1, norm_eval=True of the source not kept (they freeze pretrained weights; the spiking backbone trains from scratch)
#   backbone: ResNet-50 -> HoyerResNet-50 (widen 1.0), out_indices (0, 1, 2, 3) at strides [4, 8, 16, 32], channels [256, 512, 1024, 2048] -> [256, 512, 1024, 2048]
#   backbone: pretrained weights of the source dropped (trained from scratch; set model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...) to a spiking checkpoint)
#   neck (FPN): act_cfg -> HoyerSpike (its ConvModules spike)
#   neck: in_channels [256, 512, 1024, 2048] -> [256, 512, 1024, 2048]
#   NOT SPIKING rpn_head (RPNHead): the class has no act_cfg argument, its layers keep their built-in activation (analog)
#   NOT SPIKING roi_head.bbox_head (Shared2FCBBoxHead): the class has no act_cfg argument, its layers keep their built-in activation (analog)
#   custom_hooks: + HoyerRegularizerHook (λ=2e-09), SpikeRecomputeHook, FiringRateHook
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_hooks = [
    dict(loss_weight=2e-09, type='HoyerRegularizerHook'),
    dict(type='SpikeRecomputeHook'),
    dict(type='FiringRateHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mmdet_hoyer',
    ])
model = dict(
    backbone=dict(
        _delete_=True,
        act_cfg=dict(mode='layer', momentum=0.1, type='HoyerSpike'),
        depth=50,
        norm_cfg=dict(requires_grad=True, type='BN'),
        out_indices=(
            0,
            1,
            2,
            3,
        ),
        style='pytorch',
        type='HoyerResNet',
        widen_factor=1.0),
    neck=dict(
        act_cfg=dict(mode='layer', momentum=0.1, type='HoyerSpike'),
        in_channels=[
            256,
            512,
            1024,
            2048,
        ]))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict({'.threshold': dict(decay_mult=0.0)})))
