"""HoyerResNet: shapes for every depth/out_indices, binary conv inputs, shortcuts, bad args."""
import pytest
import torch
from torch import nn

from mmdet.registry import MODELS
from mmdet_hoyer.models.backbones.hoyer_resnet import SpikingShortcut
from mmdet_hoyer.models.layers import HoyerSpike


def build(**kw):
    cfg = dict(type='HoyerResNet', depth=18, widen_factor=0.125)
    cfg.update(kw)
    m = MODELS.build(cfg)
    m.init_weights()
    return m


@pytest.mark.parametrize('depth,expansion', [(18, 1), (34, 1), (50, 4), (101, 4)])
def test_shapes_for_every_depth(depth, expansion):
    m = build(depth=depth).train()
    outs = m(torch.randn(2, 3, 64, 64))
    assert len(outs) == 4
    for i, o in enumerate(outs):
        c = int(round(64 * 2**i * 0.125)) * expansion
        assert o.shape == (2, c, 64 // 2**(i + 2), 64 // 2**(i + 2))
    assert m.out_channels == tuple(o.shape[1] for o in outs)


@pytest.mark.parametrize('out_indices', [(0, ), (1, 3), (2, 3), (0, 1, 2)])
def test_out_indices(out_indices):
    outs = build(out_indices=out_indices)(torch.randn(2, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [64 // 2**(i + 2) for i in out_indices]


def test_every_conv_after_the_stem_sees_spikes_and_outputs_are_binary():
    m = build(depth=50).train()
    seen = {}
    hooks = [mod.register_forward_pre_hook(
        lambda mod, a, name=name: seen.__setitem__(name, bool(((a[0] == 0) | (a[0] == 1)).all())))
        for name, mod in m.named_modules() if isinstance(mod, nn.Conv2d)]
    outs = m(torch.randn(2, 3, 64, 64))
    for h in hooks:
        h.remove()
    assert seen.pop('stem.conv') is False  # the analog image
    assert seen and all(seen.values()), [k for k, v in seen.items() if not v]
    assert all(((o == 0) | (o == 1)).all() for o in outs)
    # the residual stream itself is real-valued
    res = build(depth=50, out_mode='residual')(torch.randn(2, 3, 64, 64))
    assert not ((res[-1] == 0) | (res[-1] == 1)).all()


def test_downsampling_shortcut_structure_and_stride():
    sc = SpikingShortcut(8, 16, 2, None, dict(type='BN'), dict(type='HoyerSpike'))
    assert isinstance(sc.pool, nn.MaxPool2d) and sc.pool.kernel_size == 2 and sc.pool.stride == 2
    assert isinstance(sc.bn, nn.BatchNorm2d) and isinstance(sc.act, HoyerSpike)
    assert sc.conv.kernel_size == (1, 1) and sc.conv.stride == (1, 1)
    assert sc(torch.randn(2, 8, 9, 9)).shape == (2, 16, 5, 5)  # ceil mode like the conv path
    m = build(depth=50)
    first = m.stages[1][0]
    assert first.shortcut is not None and first.unit2.conv.stride == (2, 2)  # pytorch style
    assert build(depth=50, style='caffe').stages[1][0].unit1.conv.stride == (2, 2)


def test_frozen_stages_norm_eval_and_ann_twin():
    m = build(frozen_stages=2, norm_eval=True).train()
    assert not any(p.requires_grad for p in m.stem.parameters())
    assert not any(p.requires_grad for p in m.stages[1].parameters())
    assert all(p.requires_grad for p in m.stages[2].parameters())
    assert all(not bn.training for bn in m.modules() if isinstance(bn, nn.BatchNorm2d))
    ann = build(act_cfg=dict(type='ReLU'))
    assert not any(isinstance(x, HoyerSpike) for x in ann.modules())


@pytest.mark.parametrize('kw,match', [
    (dict(depth=20), 'depth'), (dict(out_indices=(4, )), 'out_indices'),
    (dict(widen_factor=0), 'widen_factor'), (dict(out_mode='x'), 'out_mode'),
    (dict(style='x'), 'style'), (dict(frozen_stages=5), 'frozen_stages')])
def test_bad_arguments_name_the_field(kw, match):
    with pytest.raises((KeyError, ValueError), match=match):
        build(**kw)
