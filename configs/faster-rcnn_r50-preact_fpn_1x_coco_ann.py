# ANN twin of faster-rcnn_hoyer-r50_fpn_1x_coco.py: the identical pre-activation ResNet-50 +
# FPN with BN + ReLU instead of spiking neurons, no Hoyer regularizer.
_base_ = './faster-rcnn_hoyer-r50_fpn_1x_coco.py'

# its backbone starts from torchvision's ImageNet weights (the ANN's stage 1), converted:
pretrained = 'checkpoints/resnet50_tv_hoyer.pth'
pretrained_by = ('python tools/model_converters/torchvision2hoyer.py resnet50-0676ba61.pth '
                 'checkpoints/resnet50_tv_hoyer.pth --arch resnet50')

relu = dict(_delete_=True, type='ReLU')
model = dict(backbone=dict(act_cfg=relu, init_cfg=dict(checkpoint=pretrained)), neck=dict(act_cfg=relu))
custom_hooks = []
