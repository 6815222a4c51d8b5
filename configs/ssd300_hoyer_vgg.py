# One-time-step spiking SSD300 on COCO: HoyerSSDVGG16 (SSD's VGG layout, every conv BN +
# HoyerSpike), spiking SSD extra layers (HoyerSSDNeck, no L2Norm: see its docstring), analog
# classification/regression convs only; Hoyer regularizer. Trained from scratch.
# HoyerSSDVGG has membrane shortcuts in its VGG stages, through pool4 and across fc6/fc7 by
# default (docs/accuracy.md, hypotheses 1 and 7).
_base_ = 'mmdet::ssd/ssd300_coco.py'
custom_imports = dict(imports=['mmdet_hoyer'], allow_failed_imports=False)

spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
model = dict(
    backbone=dict(
        _delete_=True, type='HoyerSSDVGG', depth=16, out_indices=(3, 5), act_cfg=spike),
    neck=dict(type='HoyerSSDNeck', l2_norm_scale=None,
              norm_cfg=dict(type='BN', requires_grad=True), act_cfg=spike),
    bbox_head=dict(type='PatchedSSDHead'))  # mmdet 3.3.0 SSD predict bug, see the class

# thresholds θ get no weight decay (they are clipping thresholds, not weights)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))

custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=50),  # λ of the authors' VGG16
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
