# The demo schedule of every digits detector and its ANN twin (same budget for both): AdamW
# 2e-3 (the authors train their SNNs with Adam), 200 warm-up iterations, cosine decay over 20
# epochs (the SNN needs more than 10 to come within 10 % of its twin: docs/research/
# accuracy.md), gradient clipping, no weight decay on θ; validation and a checkpoint every 5
# epochs. One variable the demo configs unpack (their MMDetection base defines the keys):
#   train_cfg, optim_wrapper, param_scheduler, default_hooks, auto_scale_lr = _base_.digits_20e
digits_epochs = 20
digits_train_cfg = dict(max_epochs=digits_epochs, val_interval=5)
digits_optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2),
    paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))
digits_param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=digits_epochs, eta_min=2e-5)
]
digits_default_hooks = dict(logger=dict(interval=20),
                            checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
digits_20e = (digits_train_cfg, digits_optim_wrapper, digits_param_scheduler,
              digits_default_hooks, dict(base_batch_size=16))

# the same recipe over 40 epochs (the cosine over 40): `train_cfg, param_scheduler =
# _base_.digits_40e` in a config inheriting one that uses digits_20e (the *_40e_digits* configs;
# docs/research/accuracy.md)
digits_40e = (dict(digits_train_cfg, max_epochs=40),
              [digits_param_scheduler[0], dict(digits_param_scheduler[1], end=40)])
