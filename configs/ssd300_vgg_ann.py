# The DNN baseline of ssd300_hoyer_vgg.py: the identical network (BN, no L2Norm) with ReLU
# instead of spiking neurons, and no Hoyer regularizer.
_base_ = './ssd300_hoyer_vgg.py'

# its backbone starts from torchvision's ImageNet weights (the ANN's stage 1), converted:
pretrained = 'checkpoints/vgg16_bn_tv_hoyer.pth'
pretrained_by = ('python tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth '
                 'checkpoints/vgg16_bn_tv_hoyer.pth --arch vgg16_bn')

relu = dict(_delete_=True, type='ReLU')  # replace the neuron config, keep nothing of it
model = dict(backbone=dict(act_cfg=relu, init_cfg=dict(checkpoint=pretrained)), neck=dict(act_cfg=relu))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
