# Stage 1 of the demo at half its width (w = 0.5, half of VGG16's instead of a quarter): the
# spiking backbone of yolov3_hoyer_vgg_w05_digits.py (docs/research/accuracy.md:
# binary maps carry a bit per channel, so the SNN gains more from width than its twin).
# ~2.5x the quarter width's CPU time.
_base_ = './cls_hoyer_vgg16_digits.py'
w = 0.5
model = dict(backbone=dict(widen_factor=w), head=dict(in_channels=int(512 * w)))
