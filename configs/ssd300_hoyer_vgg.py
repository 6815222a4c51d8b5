# One-time-step spiking SSD300 on COCO: MMDetection's ssd300_coco.py with the spiking network
# of _base_/models/hoyer_ssd300.py, the Hoyer regularizer and no weight decay on θ. Stage 2 of
# the recipe (docs/guides/scale.md).
_base_ = ['mmdet::ssd/ssd300_coco.py', '_base_/models/hoyer_ssd300.py',
          '_base_/spiking_runtime.py']
model = _base_.hoyer_ssd300
optim_wrapper = dict(paramwise_cfg=_base_.theta_no_decay)
custom_hooks = _base_.ssd_spiking_hooks
