# The spiking pre-activation HoyerResNet-50 with a spiking FPN, as a delta over MMDetection's
# ResNet-50 FPN detectors (model = _base_.hoyer_r50_fpn): out_mode='spike' (every returned
# stage through BN + HoyerSpike), HoyerSpike in the FPN's convs; the RPN/RoI/RetinaNet heads take
# no act_cfg and stay analog (`python tools/misc/spikify_config.py mmdet::<config>` writes the
# same network and lists what it cannot make spiking). The backbone starts from torchvision's
# ImageNet resnet50 converted on load (docs/results/which_start.md); the authors' fork starts
# from their spiking ImageNet checkpoint instead: --cfg-options
# model.backbone.init_cfg.checkpoint=work_dirs/cls_hoyer_r50_in1k/epoch_400.pth. λ = 2e-9 as
# their ResNet-50. Random weights: --cfg-options model.backbone.init_cfg=None
pretrained = 'torchvision2hoyer://resnet50'
pretrained_by = 'bash tools/dist_train.sh configs/pretrain/cls_hoyer_r50_in1k.py 4'
spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
hoyer_r50_fpn = dict(
    backbone=dict(
        _delete_=True, type='HoyerResNet', depth=50, out_indices=(0, 1, 2, 3), act_cfg=spike,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(act_cfg=spike))
hoyer_r50_hooks = [
    dict(type='HoyerRegularizerHook', loss_weight=2e-9),  # λ of the authors' ResNet-50
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
