"""MembraneYOLOV3Head: the read-out adds the neck's last membranes to the bridges' outputs."""
import pytest
import torch

from mmdet.models.dense_heads import YOLOV3Head
from mmdet.registry import MODELS
from mmdet_hoyer.models.necks import HoyerYOLOV3Neck

HEAD = dict(type='MembraneYOLOV3Head', num_classes=3, in_channels=[16, 8, 4],
            out_channels=[32, 16, 8], act_cfg=None)


def test_neck_returns_its_last_membranes_after_the_spikes():
    torch.manual_seed(0)
    neck = HoyerYOLOV3Neck(3, [32, 16, 8], [16, 8, 4], membrane_out=True)
    neck.init_weights()
    neck.eval()
    seen = {}
    for i in range(3):
        getattr(neck, f'detect{i + 1}').conv5.activate.register_forward_pre_hook(
            lambda m, a, i=i: seen.setdefault(i, a[0]))
    feats = tuple((torch.rand(2, c, s, s) > 0.7).float() for c, s in zip([8, 16, 32], (16, 8, 4)))
    outs = neck(feats)
    assert len(outs) == 6
    plain = HoyerYOLOV3Neck(3, [32, 16, 8], [16, 8, 4])
    plain.load_state_dict(neck.state_dict())
    plain.eval()
    for a, b in zip(outs[:3], plain(feats)):  # the spikes are the neck's usual ones
        assert torch.equal(a, b) and ((a == 0) | (a == 1)).all()
    for i in range(3):  # then the membranes the last neurons thresholded
        assert torch.equal(outs[3 + i], seen[i])
    with pytest.raises(ValueError, match="membrane_out=True needs shortcut='membrane'"):
        HoyerYOLOV3Neck(3, [32, 16, 8], [16, 8, 4], shortcut='none', membrane_out=True)


def test_read_out_adds_the_zero_padded_membrane_to_the_bridge():
    torch.manual_seed(0)
    head = MODELS.build(HEAD)
    assert isinstance(head, YOLOV3Head)
    ref = MODELS.build(dict(HEAD, type='YOLOV3Head'))
    ref.load_state_dict(head.state_dict())  # no parameter added
    head.eval()
    ref.eval()
    spikes = [(torch.rand(1, c, s, s) > 0.5).float() for c, s in zip([16, 8, 4], (2, 4, 8))]
    membranes = [torch.randn(1, c, s, s) for c, s in zip([16, 8, 4], (2, 4, 8))]
    preds, = head(tuple(spikes + membranes))
    for i, (o, m) in enumerate(zip(spikes, membranes)):
        bridge = head.convs_bridge[i](o)
        padded = torch.cat([m, torch.zeros_like(m)], 1)  # the bridge is twice as wide
        torch.testing.assert_close(preds[i], head.convs_pred[i](bridge + padded))
        assert not torch.allclose(preds[i], ref((*spikes, ))[0][i])
    with pytest.raises(ValueError, match='expected 3 spike maps followed by their 3 membranes'):
        head(tuple(spikes))
    with pytest.raises(ValueError, match='act_cfg must be None'):
        MODELS.build(dict(HEAD, act_cfg=dict(type='HoyerSpike')))
