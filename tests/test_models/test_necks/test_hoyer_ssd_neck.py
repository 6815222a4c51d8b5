"""HoyerSSDNeck: MMDetection's SSD extra layers with BN + HoyerSpike."""
import pytest
import torch

from mmdet.registry import MODELS
from mmdet_hoyer.models.layers import HoyerSpike

SSD300 = dict(in_channels=[64, 128], out_channels=[64, 128, 64, 32, 32, 32])


def spikes(*shape):
    return (torch.rand(*shape) < 0.3).float()


def test_outputs_shapes_and_binary():
    neck = MODELS.build(dict(type='HoyerSSDNeck', **SSD300)).train()
    outs = neck([spikes(2, 64, 38, 38), spikes(2, 128, 19, 19)])
    assert [tuple(o.shape[1:]) for o in outs] == [(64, 38, 38), (128, 19, 19), (64, 10, 10),
                                                   (32, 5, 5), (32, 3, 3), (32, 1, 1)]
    assert all(((o == 0) | (o == 1)).all() for o in outs)  # every level is spikes
    assert not hasattr(neck, 'l2_norm')  # off by default: conv4_3 spikes reach the head as is
    assert sum(isinstance(m, HoyerSpike) for m in neck.modules()) == 8
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in neck.modules()) == 8


def test_l2norm_on_request_warns_that_level_0_is_analog():
    with pytest.warns(UserWarning, match='L2-normalised'):
        neck = MODELS.build(dict(type='HoyerSSDNeck', l2_norm_scale=20., **SSD300))
    neck.init_weights()
    outs = neck([spikes(2, 64, 38, 38), spikes(2, 128, 19, 19)])
    assert not ((outs[0] == 0) | (outs[0] == 1)).all()
    assert all(((o == 0) | (o == 1)).all() for o in outs[1:])


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=[64, 128], out_channels=[64, 96, 32]), 'out_channels must start with'),
    (dict(in_channels=[64, 128], out_channels=[64, 128, 32], level_strides=(2, 2)),
     'level_strides needs one entry per extra level'),
    (dict(norm_cfg=None, **SSD300), 'norm_cfg must not be None'),
])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(dict(type='HoyerSSDNeck', **kwargs))
