"""HoyerSSDVGG: SSD's VGG16 layout with spiking neurons."""
import pytest
import torch

from mmdet.registry import MODELS
from mmdet_hoyer.models.layers import HoyerSpike, MembraneShortcutStage


def build(**kwargs):
    model = MODELS.build(dict(type='HoyerSSDVGG', **kwargs))
    model.init_weights()
    return model.train()


@pytest.mark.parametrize('size,maps', [(300, [(38, 38), (19, 19)]), (160, [(20, 20), (10, 10)])])
def test_ssd_maps_have_ssd_shapes_and_are_binary(size, maps):
    model = build(widen_factor=0.125)
    outs = model(torch.randn(2, 3, size, size))
    assert [tuple(o.shape[-2:]) for o in outs] == maps  # conv4_3 (ceil-mode pools), fc7
    assert [o.shape[1] for o in outs] == list(model.out_channels) == [64, 128]
    assert all(((o == 0) | (o == 1)).all() for o in outs)


def test_layout_matches_mmdetection_ssdvgg():
    from mmdet.models.backbones import SSDVGG
    ref = SSDVGG(depth=16, with_last_pool=False, ceil_mode=True, out_indices=(3, 4),
                 out_feature_indices=(22, 34))
    ref.eval()  # (mmcv's VGG.train returns None)
    ours = build().eval()
    x = torch.randn(1, 3, 300, 300)
    with torch.no_grad():
        assert [o.shape for o in ref(x)] == [o.shape for o in ours(x)]
    convs = lambda m: [(c.in_channels, c.out_channels, c.kernel_size, c.dilation)  # noqa: E731
                       for c in m.modules() if isinstance(c, torch.nn.Conv2d)]
    assert convs(ours) == convs(ref)  # same 15 convs: 13 VGG16 convs, dilated fc6, fc7


def test_every_conv_after_the_first_sees_spikes():
    model = build(widen_factor=0.125, out_indices=(0, 1, 2, 3, 4, 5))
    seen = []
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks = [c.register_forward_pre_hook(lambda m, a: seen.append(a[0])) for c in convs[1:]]
    outs = model(torch.randn(2, 3, 96, 96))
    for h in hooks:
        h.remove()
    assert len(seen) == len(convs) - 1 == 14
    assert all(((t == 0) | (t == 1)).all() for t in seen)
    assert len(outs) == 6 and all(((o == 0) | (o == 1)).all() for o in outs)
    assert sum(isinstance(m, HoyerSpike) for m in model.modules()) == 15


def test_hoyer_vgg_checkpoint_loads_into_stages_0_to_4():
    vgg = MODELS.build(dict(type='HoyerVGG', widen_factor=0.25))
    ssd = build(widen_factor=0.25)
    missing, unexpected = ssd.load_state_dict(vgg.state_dict(), strict=False)
    assert not unexpected
    assert missing and all(k.startswith('stages.5.') for k in missing)  # fc6/fc7 only


def test_ann_twin_has_the_same_parameters():
    snn, ann = build(widen_factor=0.25), build(widen_factor=0.25, act_cfg=dict(type='ReLU'))
    shapes = lambda m: [(n, p.shape) for n, p in m.named_parameters()  # noqa: E731
                        if not n.endswith('threshold')]
    assert shapes(snn) == shapes(ann)
    assert not any(isinstance(m, HoyerSpike) for m in ann.modules())


@pytest.mark.parametrize('kwargs,match', [
    (dict(depth=17), 'HoyerSSDVGG: invalid depth 17'),
    (dict(out_indices=(3, 6)), r'HoyerSSDVGG: out_indices must be increasing stage indices in 0\.\.5'),
    (dict(widen_factor=0), 'HoyerSSDVGG: widen_factor must be a number > 0'),
    (dict(fc_channels=0), 'HoyerSSDVGG: fc_channels must be an int >= 1'),
    (dict(fc_shortcut='yes'), 'HoyerSSDVGG: fc_shortcut must be None, True or False'),
    (dict(fc_shortcut=True, shortcut='none'), "HoyerSSDVGG: fc_shortcut=True needs shortcut="),
])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises((KeyError, ValueError), match=match):
        MODELS.build(dict(type='HoyerSSDVGG', **kwargs))


def test_fc_shortcut_adds_fc7_to_fc6_membrane():
    """fc7's neuron reads m7 = m6 + BN7(conv7(s6)); the plain stage reads BN7(conv7(s6))."""
    torch.manual_seed(0)
    model = build(widen_factor=0.125, fc_shortcut=True, widening_shortcut=False,
                  out_indices=(4, 5))
    stage = model.stages[5]
    fc6, fc7 = stage[1], stage[2]
    assert torch.allclose(fc7.bn.weight, torch.full_like(fc7.bn.weight, 0.2))  # branch γ
    assert torch.allclose(fc6.bn.weight, torch.ones_like(fc6.bn.weight))
    seen = {}
    fc7.act.register_forward_pre_hook(lambda m, a: seen.setdefault('m7', a[0]))
    fc6.act.register_forward_pre_hook(lambda m, a: seen.setdefault('m6', a[0]))
    c5, out = model(torch.randn(2, 3, 96, 96))
    s6 = fc6.act(seen['m6'])  # the same batch statistics the forward used (train mode)
    z7 = fc7.bn(fc7.conv(s6))
    assert torch.allclose(seen['m7'], seen['m6'] + z7, atol=1e-5)
    assert ((out == 0) | (out == 1)).all()
    # the conv of fc7 still reads fc6's spikes
    assert ((s6 == 0) | (s6 == 1)).all()


def test_fc_shortcut_passes_gradient_to_fc6_around_fc7():
    torch.manual_seed(0)
    plain = build(widen_factor=0.125, out_indices=(5, ), act_cfg=dict(type='ReLU'),
                  fc_shortcut=False)
    short = build(widen_factor=0.125, out_indices=(5, ), act_cfg=dict(type='ReLU'),
                  fc_shortcut=True)
    short.load_state_dict(plain.state_dict())
    for model in (plain, short):  # fc7 cut off: only a shortcut carries fc6's gradient
        torch.nn.init.zeros_(model.stages[5][2].bn.weight)
        torch.nn.init.zeros_(model.stages[5][2].bn.bias)
    x = torch.randn(2, 3, 64, 64)
    plain(x)[0].sum().backward()
    short(x)[0].sum().backward()
    g_plain = plain.stages[5][1].conv.weight.grad
    g_short = short.stages[5][1].conv.weight.grad
    assert g_plain is None or g_plain.abs().max() == 0
    assert g_short.abs().max() > 0


def test_shortcut_defaults_follow_the_shortcut_mode():
    membrane, plain = build(widen_factor=0.125), build(widen_factor=0.125, shortcut='none')
    assert membrane.stages[5].shortcut and membrane.stages[4].stream_in
    assert membrane.widening_shortcut and membrane.stages[5].stream_in  # conv5_3 → fc6
    assert not plain.widening_shortcut
    assert not build(widen_factor=0.125, fc_shortcut=False).widening_shortcut  # needs fc7's
    assert membrane.cross_stage_shortcut and not plain.cross_stage_shortcut
    assert not plain.stages[5].shortcut
    assert not isinstance(plain.stages[4], MembraneShortcutStage)


def test_fc_shortcut_keeps_parameter_names():
    plain = build(widen_factor=0.25, fc_shortcut=False, cross_stage_shortcut=False)
    short = build(widen_factor=0.25, fc_shortcut=True)
    assert [n for n, _ in plain.named_parameters()] == [n for n, _ in short.named_parameters()]
    short.load_state_dict(plain.state_dict())


def test_cross_stage_shortcut_continues_conv4_3_stream_into_conv5_1():
    torch.manual_seed(0)
    model = build(widen_factor=0.125, cross_stage_shortcut=True, widening_shortcut=False,
                  out_indices=(3, 4)).eval()
    assert [getattr(s, 'stream_in', None) for s in model.stages] == \
        [False, False, False, False, True, False]  # conv4_3 → conv5_1: the equal-width boundary
    assert torch.allclose(model.stages[4][0].bn.weight, torch.tensor(0.2))  # now a branch
    seen = {}
    model.stages[3][2].act.register_forward_pre_hook(lambda m, a: seen.setdefault('m43', a[0]))
    model.stages[4][0].act.register_forward_pre_hook(lambda m, a: seen.setdefault('m51', a[0]))
    c4, c5 = model(torch.randn(2, 3, 96, 96))
    unit = model.stages[4][0]
    z51 = unit.bn(unit.conv(unit.pool_in(c4)))  # conv5_1 still reads pooled conv4_3 spikes
    expected = torch.nn.functional.max_pool2d(seen['m43'], 2, ceil_mode=True) + z51
    assert torch.allclose(seen['m51'], expected, atol=1e-5)
    assert ((c5 == 0) | (c5 == 1)).all()


@pytest.mark.parametrize('kwargs,match', [
    (dict(cross_stage_shortcut=1), 'cross_stage_shortcut must be None, True or False'),
    (dict(cross_stage_shortcut=True, shortcut='none'), "needs shortcut='membrane'"),
])
def test_cross_stage_shortcut_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(dict(type='HoyerSSDVGG', **kwargs))


def test_widening_shortcut_carries_conv5_3_stream_into_fc6():
    torch.manual_seed(0)
    model = build(widen_factor=0.125).eval()  # the default with shortcut='membrane'
    assert model.widening_shortcut
    assert [getattr(s, 'stream_in', None) for s in model.stages] == \
        [False, True, True, True, True, True]
    seen = {}
    fc6 = model.stages[5][1]
    model.stages[4][2].act.register_forward_pre_hook(lambda m, a: seen.setdefault('m53', a[0]))
    fc6.act.register_forward_pre_hook(lambda m, a: seen.setdefault('m6', a[0]))
    fc6.conv.register_forward_pre_hook(lambda m, a: seen.setdefault('in6', a[0]))
    _, fc7 = model(torch.randn(2, 3, 96, 96))
    assert ((seen['in6'] == 0) | (seen['in6'] == 1)).all()  # fc6 still reads pool5's spikes
    z6 = fc6.bn(fc6.conv(seen['in6']))
    pooled = torch.nn.functional.max_pool2d(seen['m53'], 3, 1, 1)  # pool5, as the spikes
    width_in = pooled.shape[1]
    assert width_in < z6.shape[1]
    torch.testing.assert_close(seen['m6'][:, :width_in], pooled + z6[:, :width_in])
    torch.testing.assert_close(seen['m6'][:, width_in:], z6[:, width_in:])
    assert ((fc7 == 0) | (fc7 == 1)).all()
    with pytest.raises(ValueError, match='widening_shortcut=True needs fc_shortcut'):
        build(widening_shortcut=True, fc_shortcut=False)
    with pytest.raises(ValueError, match="widening_shortcut=True needs shortcut='membrane'"):
        build(widening_shortcut=True, shortcut='none')
