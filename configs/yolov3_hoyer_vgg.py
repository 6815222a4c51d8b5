# One-time-step spiking YOLOv3 on COCO: spiking VGG16 backbone and neck (HoyerSpike in every
# conv), membrane read-out in the head, Hoyer regularizer.
# Trained from scratch (no pretrained weights), as in Datta, Liu & Beerel (arXiv 2212.10170).
# HoyerVGG and HoyerYOLOV3Neck have membrane shortcuts by default (docs/accuracy.md);
# shortcut='none' gives the authors' plain stack.
_base_ = 'mmdet::yolo/yolov3_d53_8xb8-ms-608-273e_coco.py'
custom_imports = dict(imports=['mmdet_hoyer'], allow_failed_imports=False)

spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
model = dict(
    backbone=dict(
        _delete_=True, type='HoyerVGG', depth=16, out_indices=(2, 3, 4), act_cfg=spike),
    neck=dict(
        type='HoyerYOLOV3Neck',
        in_channels=[512, 512, 256],  # deepest first: stride 32, 16, 8
        out_channels=[512, 256, 128],
        act_cfg=spike),
    # membrane read-out: the head's 3x3 bridge convs read the neck's spikes (conv + BN, no
    # neuron) and the 1x1 prediction convs read the bridge's membrane potential (analog, counted
    # as MACs). Spiking bridges (act_cfg=spike) lose the class information: docs/accuracy.md
    bbox_head=dict(act_cfg=None))

# thresholds θ get no weight decay (they are clipping thresholds, not weights)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))

custom_hooks = [
    # λ = 1e-8 as the authors' VGG16 code
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=50),
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
