# The spiking SSD300 as a delta over MMDetection's SSD300 model (COCO and VOC configs inject it
# with model = _base_.hoyer_ssd300): HoyerSSDVGG16 (SSD's VGG layout, every conv BN +
# HoyerSpike, membrane shortcuts in its VGG stages, across every stage boundary (zero-padded
# where the width grows), conv5_3 -> fc6 and fc6 -> fc7; the widening one measured in
# docs/research/accuracy.md, table h8-ssd), spiking SSD extra layers (HoyerSSDNeck, no
# L2Norm: see its docstring), analog classification/regression convs only. Stages 0-4 start from
# torchvision's ImageNet vgg16_bn converted on load (docs/results/which_start.md); fc6/fc7 from
# random weights. The spiking stage 1 instead: --cfg-options
# model.backbone.init_cfg.checkpoint=work_dirs/cls_hoyer_vgg16_in1k/epoch_150.pth; random
# weights: model.backbone.init_cfg=None
pretrained = 'torchvision2hoyer://vgg16_bn'
pretrained_by = 'bash tools/dist_train.sh configs/pretrain/cls_hoyer_vgg16_in1k.py 8'
spike = dict(type='HoyerSpike', mode='layer', momentum=0.1)
hoyer_ssd300 = dict(
    # stage 1's ImageNet normalisation (SSD's own divides by 1: a caffe VGG's)
    data_preprocessor=dict(std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True, type='HoyerSSDVGG', depth=16, out_indices=(3, 5), act_cfg=spike,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(type='HoyerSSDNeck', l2_norm_scale=None,
              norm_cfg=dict(type='BN', requires_grad=True), act_cfg=spike),
    bbox_head=dict(type='PatchedSSDHead'))  # mmdet 3.3.0 SSD predict bug, see the class
