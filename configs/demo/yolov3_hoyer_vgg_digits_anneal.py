# Option: the demo's spiking YOLOv3 trained through the ReLU-to-spike anneal
# (SpikeWarmupHook, ramp='relu'; docs/spike_warmup.md): epochs 1-3 train the network with ReLU
# forward and backward, epochs 4-8 fade it into the spiking neuron, epochs 9-10 are the plain
# SNN, which is what is evaluated. The default demo trains the SNN from its first step.
_base_ = './yolov3_hoyer_vgg_digits.py'

custom_hooks = [
    dict(type='HoyerRegularizerHook', loss_weight=1e-8, interval=20),
    dict(type='SpikeWarmupHook', begin=3, end=8, by_epoch=True, ramp='relu'),
    dict(type='FiringRateHook'),
]
