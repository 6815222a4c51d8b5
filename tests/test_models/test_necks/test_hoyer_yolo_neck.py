import pytest
import torch

from mmdet.models.necks import YOLOV3Neck
from mmdet_hoyer.models.layers import HoyerSpike
from mmdet_hoyer.models.necks import HoyerYOLOV3Neck


@pytest.mark.parametrize('shortcut', ['none', 'membrane'])
@pytest.mark.parametrize('in_channels, out_channels', [([64, 64, 32], [32, 16, 8]),
                                                       ([16, 24, 8], [8, 8, 4])])
def test_shapes_and_binary_outputs_from_binary_inputs(in_channels, out_channels, shortcut):
    neck = HoyerYOLOV3Neck(3, in_channels, out_channels, shortcut=shortcut)
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


def test_membrane_shortcut_blocks_keep_the_parameters_and_add_the_streams():
    torch.manual_seed(0)
    plain = HoyerYOLOV3Neck(2, [16, 8], [8, 4], act_cfg=dict(type='ReLU'), shortcut='none')
    mem = HoyerYOLOV3Neck(2, [16, 8], [8, 4], act_cfg=dict(type='ReLU'), shortcut='membrane',
                          branch_gamma=0.5)
    assert {k: v.shape for k, v in plain.state_dict().items()} == \
        {k: v.shape for k, v in mem.state_dict().items()}
    mem.init_weights()
    assert [float(getattr(mem.detect1, f'conv{i}').bn.weight.detach().mean())
            for i in range(1, 6)] == [1.0, 1.0, 0.5, 0.5, 0.5]
    mem.load_state_dict(plain.state_dict())
    plain.eval()
    mem.eval()
    feats = (torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4))
    # hand-computed detection block: conv3 joins conv1's membrane, conv4 conv2's, conv5 conv3's
    b = plain.detect1
    m1 = b.conv1(feats[1], activate=False)
    m2 = b.conv2(m1.relu(), activate=False)
    m3 = m1 + b.conv3(m2.relu(), activate=False)
    m4 = m2 + b.conv4(m3.relu(), activate=False)
    m5 = m3 + b.conv5(m4.relu(), activate=False)
    out_mem = mem(feats)
    torch.testing.assert_close(out_mem[0], m5.relu())
    assert not torch.allclose(plain(feats)[0], out_mem[0])


def test_bad_shortcut_arguments_name_the_field():
    with pytest.raises(ValueError, match='shortcut'):
        HoyerYOLOV3Neck(3, [64, 32, 16], [32, 16, 8], shortcut='residual')
    with pytest.raises(ValueError, match='branch_gamma'):
        HoyerYOLOV3Neck(3, [64, 32, 16], [32, 16, 8], shortcut='membrane', branch_gamma=-1)


def test_backbone_skip_appends_each_levels_backbone_map():
    torch.manual_seed(0)
    in_channels, out_channels = [16, 12, 8], [8, 6, 4]
    skip = HoyerYOLOV3Neck(3, in_channels, out_channels, backbone_skip=True)
    plain = HoyerYOLOV3Neck(3, in_channels, out_channels)
    plain.load_state_dict(skip.state_dict())  # no parameter added
    skip.eval()
    plain.eval()
    feats = tuple((torch.rand(2, c, s, s) > 0.7).float()
                  for c, s in zip(in_channels[::-1], (16, 8, 4)))
    outs, ref = skip(feats), plain(feats)
    assert [o.shape[1] for o in outs] == [o + i for o, i in zip(out_channels, in_channels)]
    for o, r, c in zip(outs, ref, reversed(feats)):  # deepest first: [neck's, backbone's]
        assert torch.equal(o[:, :r.shape[1]], r) and torch.equal(o[:, r.shape[1]:], c)
        assert ((o == 0) | (o == 1)).all()
    with pytest.raises(ValueError, match='backbone_skip must be True or False'):
        HoyerYOLOV3Neck(3, in_channels, out_channels, backbone_skip=1)
    with pytest.raises(ValueError, match='expected 3 feature maps, got 2'):
        skip(feats[:2])
