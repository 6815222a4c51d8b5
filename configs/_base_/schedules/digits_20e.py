# The demo schedule of every digits detector and its ANN twin (same budget for both): AdamW
# 2e-3 (the authors train their SNNs with Adam), 200 warm-up iterations, cosine decay over 20
# epochs (the SNN needs more than 10 to come within 10 % of its twin: docs/research/
# accuracy.md), gradient clipping, no weight decay on θ; validation and a checkpoint every 5
# epochs. MMEngine refuses two bases that set the same key, and a demo config's other base (its
# full config, through MMDetection's packaged one) sets all of these, so this file names each
# value after the key it is for and the demo configs set the keys from it:
#   train_cfg = _base_.digits_train_cfg, param_scheduler = _base_.digits_param_scheduler, ...
digits_epochs = 20
digits_train_cfg = dict(max_epochs=digits_epochs, val_interval=5)
digits_optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2),
    paramwise_cfg=dict(custom_keys={'.threshold': dict(decay_mult=0.)}))
digits_warmup = dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200)
digits_cosine = dict(type='CosineAnnealingLR', by_epoch=True, begin=0, eta_min=2e-5)
digits_param_scheduler = [digits_warmup, dict(digits_cosine, end=digits_epochs)]
digits_default_hooks = dict(logger=dict(interval=20),
                            checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
digits_auto_scale_lr = dict(base_batch_size=16)

# the same recipe over 40 epochs, the cosine over 40 (the *_40e_digits* configs:
# train_cfg = dict(max_epochs=40), param_scheduler = _base_.digits_param_scheduler_40e)
digits_param_scheduler_40e = [digits_warmup, dict(digits_cosine, end=40)]
