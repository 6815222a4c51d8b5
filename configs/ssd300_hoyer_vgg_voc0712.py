# The spiking SSD300 (_base_/models/hoyer_ssd300.py) on Pascal VOC 07+12 trainval, evaluated on
# VOC2007 test with VOCMetric: MMDetection's ssd300_voc0712.py (11-point mAP, the VOC2007
# protocol; `--cfg-options val_evaluator.eval_mode=area` for the area mAP of VOC2010+).
_base_ = ['mmdet::pascal_voc/ssd300_voc0712.py', '_base_/models/hoyer_ssd300.py',
          '_base_/spiking_runtime.py']
model = _base_.hoyer_ssd300
optim_wrapper = dict(paramwise_cfg=_base_.theta_no_decay)
custom_hooks = _base_.ssd_spiking_hooks
