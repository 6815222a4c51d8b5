import pytest
import torch

from mmdet.models.necks import YOLOV3Neck
from mmdet_hoyer.models.layers import HoyerSpike
from mmdet_hoyer.models.necks import HoyerYOLOV3Neck


@pytest.mark.parametrize('in_channels, out_channels', [([64, 64, 32], [32, 16, 8]),
                                                       ([16, 24, 8], [8, 8, 4])])
def test_shapes_and_binary_outputs_from_binary_inputs(in_channels, out_channels):
    neck = HoyerYOLOV3Neck(3, in_channels, out_channels)
    assert isinstance(neck, YOLOV3Neck)  # MMDetection's topology, not a copy
    neurons = [m for m in neck.modules() if isinstance(m, HoyerSpike)]
    convs = [m for m in neck.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(neurons) == len(convs) > 0
    # spike maps of strides 8, 16, 32 (shallowest first, as a backbone returns them)
    feats = tuple((torch.rand(2, c, s, s) > 0.7).float()
                  for c, s in zip(in_channels[::-1], (16, 8, 4)))
    inputs_binary = []
    hooks = [c.register_forward_pre_hook(
        lambda m, a: inputs_binary.append(bool(((a[0] == 0) | (a[0] == 1)).all())))
        for c in convs]
    outs = neck(feats)
    for h in hooks:
        h.remove()
    assert all(inputs_binary)
    assert [o.shape for o in outs] == [(2, out_channels[0], 4, 4), (2, out_channels[1], 8, 8),
                                       (2, out_channels[2], 16, 16)]
    assert all(((o == 0) | (o == 1)).all() for o in outs)


def test_bad_channel_lists_name_the_field():
    with pytest.raises(ValueError, match='in_channels'):
        HoyerYOLOV3Neck(3, [64, 32], [32, 16, 8])
    with pytest.raises(ValueError, match='norm_cfg'):
        HoyerYOLOV3Neck(3, [64, 32, 16], [32, 16, 8], norm_cfg=None)
