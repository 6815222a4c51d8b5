# Stage 1 at full scale: pretrain the spiking HoyerVGG16 (the backbone of yolov3_hoyer_vgg.py and
# ssd300_hoyer_vgg.py) on ImageNet-1k with MMPretrain: its ImageNet dataset and standard pipeline
# (RandomResizedCrop 224 + flip; ResizeEdge 256 + CenterCrop 224), ImageClassifier, Accuracy
# (_base_/pretrain_spiking.py). The authors' detectors start from such an ImageNet-trained
# spiking backbone ("from scratch" in the paper means SNN training without ANN-to-SNN
# conversion, not a random backbone).
#
#   bash tools/dist_train.sh configs/pretrain/cls_hoyer_vgg16_in1k.py 8      # 8 GPUs × 64
#
# Settings of the authors' VGG16 ImageNet run (shared/paper-notes: Adam lr 1e-4, batch 64 × 8,
# weight decay 5e-4 as Adam's L2 term, 1000 warm-up iterations, 150 epochs, λ = 1e-8); the
# lr ÷5 steps at 60/80/90 % are their CIFAR scripts' step schedule (the ImageNet decay is not
# stated). Data: data/imagenet/{train,val}/ and meta/{train,val}.txt (MMPretrain's layout).
# Its weights load into HoyerVGG and HoyerSSDVGG (stages 0-4 share parameter names) through
# the detectors' `init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=...)`.
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs64.py',
          'mmpretrain::_base_/default_runtime.py', '../_base_/pretrain_spiking.py']

model = dict(backbone=dict(type='mmdet.HoyerVGG', depth=16, out_indices=(4, ),
                           act_cfg=_base_.spike),
             head=dict(in_channels=512))
# Adam with the L2 term the authors' code adds; θ (a clip threshold) gets no decay
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4),
    paramwise_cfg=_base_.theta_no_decay)
param_scheduler = [
    _base_.warmup,
    dict(type='MultiStepLR', by_epoch=True, milestones=[90, 120, 135], gamma=0.2),
]
train_cfg = dict(by_epoch=True, max_epochs=150, val_interval=5)
auto_scale_lr = dict(base_batch_size=512)  # 8 GPUs × 64
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3))
