# Spiking Faster R-CNN R50-FPN on COCO (1x): mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py with the
# spiking HoyerResNet-50 and FPN of _base_/models/hoyer_r50_fpn.py. Stage 2 of the recipe.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', '_base_/models/hoyer_r50_fpn.py',
          '_base_/spiking_runtime.py']
model = _base_.hoyer_r50_fpn
optim_wrapper = dict(paramwise_cfg=_base_.theta_no_decay)
custom_hooks = _base_.hoyer_r50_hooks
