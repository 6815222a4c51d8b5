# The ANN twin of a spiking config: the identical network with BN + ReLU instead of HoyerSpike,
# no Hoyer regularizer; at full scale its backbone starts from torchvision's ImageNet weights,
# as the spiking configs' does. Variables the *_relu_* configs inject over their spiking config
# (model = _base_.relu_twin_vgg; pretrained_by = _base_.vgg16_bn_converted_by: what writes a
# converted file, should --cfg-options point the backbone at one).
relu = dict(_delete_=True, type='ReLU')  # replace the neuron config, keep nothing of it
vgg16_bn_converted_by = ('python tools/model_converters/torchvision2hoyer.py '
                         'vgg16_bn-6c64b313.pth work_dirs/relu_vgg16_in1k.pth --arch vgg16_bn')
r50_converted_by = ('python tools/model_converters/torchvision2hoyer.py '
                    'resnet50-0676ba61.pth work_dirs/relu_r50_in1k.pth --arch resnet50')
relu_twin_vgg = dict(backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu))
relu_twin_yolov3 = dict(relu_twin_vgg, bbox_head=dict(act_cfg=relu))
relu_twin_r50 = dict(backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu))
# the demo's twins start from the ANN's own stage 1 (configs/demo/cls_relu_vgg16_digits.py)
demo_stage1 = 'work_dirs/demo_ann_cls/iter_800.pth'
relu_twin_vgg_demo = dict(backbone=dict(act_cfg=relu, init_cfg=dict(checkpoint=demo_stage1)),
                          neck=dict(act_cfg=relu))
relu_twin_yolov3_demo = dict(relu_twin_vgg_demo, bbox_head=dict(act_cfg=relu))
ssd_checks = [  # MMDetection's SSD hooks, without the spiking ones
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
