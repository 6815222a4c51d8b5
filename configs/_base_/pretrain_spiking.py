# Stage 1 with MMPretrain: what the spiking backbones' ImageNet configs (configs/pretrain/) add
# to MMPretrain's ImageNet dataset and runtime bases: the plugin's import, an ImageClassifier
# (the backbone from MMDetection's scope through the cross-scope registry, mmdet.*; GAP + linear
# head, analog: only the backbone moves on to detection) and the spiking hooks (Hoyer
# regularizer with λ of the authors' VGG16, saved-spike recomputation, firing rates next to
# the accuracy). Keys MMPretrain's bases leave unset.
custom_imports = dict(imports=['mmpretrain', 'mmdet_hoyer'], allow_failed_imports=False)
spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
model = dict(
    type='ImageClassifier',
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
val_cfg = dict()
test_cfg = dict()
custom_hooks = [
    dict(type='mmdet.HoyerRegularizerHook', loss_weight=1e-8, interval=100),
    dict(type='mmdet.SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='mmdet.FiringRateHook'),
]
# values the stage-1 configs set their keys from (MMPretrain's schedule bases set those keys):
# θ, a clip threshold, gets no weight decay; 1000 warm-up iterations
theta_no_decay = dict(custom_keys={'.threshold': dict(decay_mult=0.)})
warmup = dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=1000)
