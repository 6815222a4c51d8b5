# One-time-step spiking YOLOv3 on COCO: spiking VGG16 backbone and neck (HoyerSpike in every
# conv), membrane read-out in the head, Hoyer regularizer; spiking from its first step (no
# ANN-to-SNN conversion). The backbone starts from torchvision's ImageNet vgg16_bn, converted on
# load (torchvision2hoyer://, the file from torch's hub cache): on the demo an ANN stage 1 gave
# the same detector as the spiking one (docs/results/which_start.md).
# HoyerVGG and HoyerYOLOV3Neck have membrane shortcuts by default (docs/research/accuracy.md);
# shortcut='none' gives the authors' plain stack. The taps and the backbone skip are what the demo
# measured (docs/research/accuracy.md, tables h24-backbone-skip and h28-w05-skip); the demo's
# configs are this network at a smaller width (tests/test_configs/test_demo_is_the_full_network.py).
_base_ = ['mmdet::yolo/yolov3_d53_8xb8-ms-608-273e_coco.py', '_base_/spiking_runtime.py']

# The authors' start, a spiking stage 1 on ImageNet (150 epochs, GPU-days), is one option away:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/cls_hoyer_vgg16_in1k/epoch_150.pth
# (tools/train.py then names the command below when the file is missing). From random weights:
# --cfg-options model.backbone.init_cfg=None
pretrained = 'torchvision2hoyer://vgg16_bn'
pretrained_by = 'bash tools/dist_train.sh configs/pretrain/cls_hoyer_vgg16_in1k.py 8'

spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
model = dict(
    # stage 1's ImageNet normalisation (the first conv reads the analog image)
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True, type='HoyerVGG', depth=16, act_cfg=spike,
        # conv4_3 / conv5_3 read before their pools, strides 8/16/32 (table h24-backbone-skip)
        tap_before_pool=True, out_indices=(3, 4, 5),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        type='HoyerYOLOV3Neck',
        in_channels=[512, 512, 512],  # deepest first: stride 32, 16, 8 (all conv5-wide taps)
        out_channels=[512, 256, 128],
        # each level also hands the head its backbone map: SNN +0.035 mAP (table h24-backbone-skip)
        backbone_skip=True,
        act_cfg=spike),
    # membrane read-out: the head's 3x3 bridge convs read the neck's spikes (conv + BN, no
    # neuron) and the 1x1 prediction convs read the bridge's membrane potential (analog, counted
    # as MACs). Spiking bridges (act_cfg=spike) lose the class information: docs/research/accuracy.md
    bbox_head=dict(act_cfg=None, in_channels=[512 + 512, 256 + 512, 128 + 512]))

optim_wrapper = dict(paramwise_cfg=_base_.theta_no_decay)
custom_hooks = _base_.spiking_hooks  # λ = 1e-8 as the authors' VGG16 code
