# The DNN baseline of ssd300_hoyer_vgg.py: the identical network (BN, no L2Norm) with ReLU
# instead of spiking neurons, and no Hoyer regularizer.
_base_ = './ssd300_hoyer_vgg.py'

relu = dict(_delete_=True, type='ReLU')  # replace the neuron config, keep nothing of it
model = dict(backbone=dict(act_cfg=relu), neck=dict(act_cfg=relu))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
