# Stage 1 at full scale, start (d) of docs/results/which_start.md: the spiking HoyerVGG16
# starts from torchvision's ImageNet ANN weights (vgg16_bn, converted by
# tools/model_converters/torchvision2hoyer.py) and is fine-tuned as an SNN on ImageNet-1k for a
# quarter of the from-random budget (the demo's ratio: 200 of 800 iterations). θ and the running
# thresholds are not in the ANN's weights and start at their initial 1.0; the linear head starts
# from scratch. Everything else is cls_hoyer_vgg16_in1k.py's.
#
#   python tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth \
#       work_dirs/relu_vgg16_in1k.pth --arch vgg16_bn
#   bash tools/dist_train.sh configs/pretrain/cls_hoyer_vgg16_from-relu_in1k.py 8
#
# The detectors load its last checkpoint with
#   --cfg-options pretrained=work_dirs/cls_hoyer_vgg16_from-relu_in1k/epoch_38.pth \
#       model.backbone.init_cfg.checkpoint=work_dirs/cls_hoyer_vgg16_from-relu_in1k/epoch_38.pth
_base_ = './cls_hoyer_vgg16_in1k.py'

relu_weights = 'work_dirs/relu_vgg16_in1k.pth'
pretrained_by = ('python tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth '
                 f'{relu_weights} --arch vgg16_bn')
model = dict(init_cfg=dict(type='Pretrained', checkpoint=relu_weights))
max_epochs = 38  # 150 / 4
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, eta_min=1e-6),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
