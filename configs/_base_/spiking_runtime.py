# What every spiking config adds to an MMDetection config: the plugin's import, and as
# variables its configs reference (custom_hooks = _base_.spiking_hooks, optim_wrapper =
# dict(paramwise_cfg=_base_.theta_no_decay)) the hooks (Hoyer regularizer with λ of the
# authors' VGG16, saved-spike recomputation, firing rates next to the metrics) and no weight
# decay on θ (a clip threshold, not a weight). No key an MMDetection config defines, so this file
# combines with any of them as a second base.
custom_imports = dict(imports=['mmdet_hoyer'], allow_failed_imports=False)
spiking_hooks = [
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=50),
    dict(type='SpikeRecomputeHook'),  # no stored copy of the spike maps (same gradients)
    dict(type='FiringRateHook'),
]
theta_no_decay = dict(custom_keys={'.threshold': dict(decay_mult=0.)})
ssd_spiking_hooks = [  # MMDetection's SSD hooks, then the spiking ones
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    *spiking_hooks,
]
