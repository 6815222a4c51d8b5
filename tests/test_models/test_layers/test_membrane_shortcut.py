"""Membrane shortcuts: values and gradients against a hand-written float64 reference."""
import pytest
import torch
from mmcv.cnn import ConvModule
from torch import nn

from mmdet_hoyer.models.backbones.hoyer_vgg import ConvPoolNormAct
from mmdet_hoyer.models.layers import MembraneShortcutStage
from mmdet_hoyer.models.layers.membrane_shortcut import (init_branch_gamma, membrane_forward,
                                                         same_width_links)


def unit(cin, cout, pool=False, act=None):
    u = ConvPoolNormAct(cin, cout, pool=pool, conv_cfg=None, norm_cfg=dict(type='BN'),
                        act_cfg=act or dict(type='ReLU'))
    nn.init.normal_(u.bn.weight, 1.0, 0.3)
    nn.init.normal_(u.bn.bias, 0.0, 0.3)
    return u


@pytest.mark.parametrize('widths, links', [
    ([8, 8, 8], [None, 0, 1]),                   # a VGG stage after its first conv
    ([4, 8, 4, 8, 4], [None, None, 0, 1, 2]),    # YOLOv3's detection block (c, 2c, ...)
    ([4, 8, 16], [None, None, None]),            # no equal widths: a plain stack
    ([None, 4, 4], [None, None, 1]),             # a unit without conv joins nothing
])
def test_links_join_the_latest_unit_of_the_same_width(widths, links):
    assert same_width_links(widths) == links


def test_stage_forward_and_gradient_equal_the_float64_reference():
    torch.manual_seed(0)
    units = [unit(3, 4), unit(4, 4), unit(4, 4, pool=True)]
    stage = MembraneShortcutStage(*units).double().eval()  # BN with fixed statistics
    for u in units:
        u.bn.running_mean.normal_()
        u.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)

    def reference(x):
        def z(u, inp):
            y = u.conv(inp)
            if hasattr(u, 'pool'):
                y = u.pool(y)
            return u.bn(y)
        m1 = z(units[0], x)
        m2 = m1 + z(units[1], torch.relu(m1))
        m3 = nn.functional.max_pool2d(m2, 2) + z(units[2], torch.relu(m2))
        return torch.relu(m3)

    out, ref = stage(x), reference(x)
    assert out.shape == (2, 4, 4, 4)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    # the stream is not what the plain stack computes
    plain = nn.Sequential(*units)(x)
    assert (plain - out).abs().max() > 1e-3
    g_out, = torch.autograd.grad(out.square().sum(), x)
    g_ref, = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(g_out, g_ref, rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(lambda t: stage(t), (x[:1, :, :4, :4].detach()
                                                          .requires_grad_(), ))


def test_spiking_stage_keeps_binary_inputs_into_every_conv_after_the_first():
    torch.manual_seed(0)
    stage = MembraneShortcutStage(*[unit(c, 8, pool=p, act=dict(type='HoyerSpike'))
                                    for c, p in ((3, False), (8, False), (8, True))])
    seen = []
    for m in stage.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_pre_hook(
                lambda mod, a: seen.append(bool(((a[0] == 0) | (a[0] == 1)).all())))
    for training in (True, False):
        stage.train(training)
        seen.clear()
        out = stage(torch.rand(4, 3, 16, 16))
        assert seen == [False, True, True]
        assert ((out == 0) | (out == 1)).all() and out.shape == (4, 8, 8, 8)


def test_convmodule_units_and_init_branch_gamma():
    torch.manual_seed(0)
    cfg = dict(norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
    units = [ConvModule(4, 6, 1, **cfg), ConvModule(6, 4, 3, padding=1, **cfg),
             ConvModule(4, 6, 1, **cfg)]
    assert units[0].activate.inplace  # MMCV's default; the stage must not overwrite m1
    MembraneShortcutStage(*units)
    assert not any(u.activate.inplace for u in units)
    links = same_width_links([6, 4, 6])
    for u in units:
        u.eval()
    x = torch.randn(1, 4, 5, 5)
    m1 = units[0](x, activate=False)
    o2 = units[1](torch.relu(m1))
    expected = torch.relu(m1 + units[2](o2, activate=False))
    torch.testing.assert_close(membrane_forward(units, links, x), expected)
    init_branch_gamma(units, links, 0.25)
    assert [float(u.bn.weight.mean()) for u in units] == [1.0, 1.0, 0.25]


def test_branch_gamma_is_set_by_init_weights_and_a_checkpoint_overrides_it(tmp_path):
    from mmdet_hoyer.models.backbones import HoyerVGG
    model = HoyerVGG(depth=11, widen_factor=0.125, shortcut='membrane', branch_gamma=0.2)
    model.init_weights()
    gammas = {n: float(m.weight.detach().mean()) for n, m in model.named_modules()
              if isinstance(m, nn.BatchNorm2d)}
    # VGG11: stages (1, 1, 2, 2, 2) convs -> the second conv of stages 2-4 is a branch
    assert {n for n, g in gammas.items() if g == pytest.approx(0.2)} == {
        'stages.2.1.bn', 'stages.3.1.bn', 'stages.4.1.bn'}
    assert all(g == 1.0 for n, g in gammas.items() if not n.endswith('.1.bn'))
    ckpt = tmp_path / 'backbone.pth'
    state = {f'backbone.{k}': v.clone() for k, v in model.state_dict().items()}
    state['backbone.stages.2.1.bn.weight'].fill_(0.7)
    torch.save({'state_dict': state}, ckpt)
    loaded = HoyerVGG(depth=11, widen_factor=0.125, shortcut='membrane', branch_gamma=0.2,
                      init_cfg=dict(type='Pretrained', checkpoint=str(ckpt),
                                    prefix='backbone.'))
    loaded.init_weights()
    assert float(loaded.stages[2][1].bn.weight.mean()) == pytest.approx(0.7)


def test_a_unit_without_a_neuron_is_refused():
    with pytest.raises(ValueError, match="unit 1 .*'act'"):
        MembraneShortcutStage(unit(3, 4), nn.Sequential(nn.Conv2d(4, 4, 3)))
    with pytest.raises(ValueError, match='unit 0 .*no activation'):
        MembraneShortcutStage(ConvModule(3, 4, 1, act_cfg=None))


def test_incoming_stream_is_pooled_and_added_to_the_first_unit():
    """``stream_in``: m_0 = pool_in(stream) + z_0 (float64 reference), membrane returned."""
    torch.manual_seed(0)
    first = ConvPoolNormAct(4, 4, pool=False, conv_cfg=None, norm_cfg=dict(type='BN'),
                            act_cfg=dict(type='ReLU'), pool_input=True)
    units = [first, unit(4, 4)]
    stage = MembraneShortcutStage(*units, stream_in=True).double().eval()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    stream = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    out, m = stage(x, stream=stream, return_membrane=True)
    m1 = nn.functional.max_pool2d(stream, 2) + first.bn(first.conv(first.pool_in(x)))
    m2 = m1 + units[1].bn(units[1].conv(torch.relu(m1)))
    torch.testing.assert_close(m, m2, rtol=0, atol=1e-12)
    torch.testing.assert_close(out, torch.relu(m2), rtol=0, atol=1e-12)
    g, = torch.autograd.grad(out.sum(), stream)
    assert g.abs().max() > 0  # the stream's gradient flows back into the previous stage
    # without a stream the stage is what it was
    torch.testing.assert_close(stage(x), MembraneShortcutStage(*units)(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match='stream_in=False'):
        MembraneShortcutStage(*units)(x, stream=stream)
    # branch_gamma also marks the first unit, which now adds to a stream
    init_branch_gamma(units, stage.links, 0.2, stream_in=True)
    assert torch.all(first.bn.weight == 0.2) and torch.all(units[1].bn.weight == 0.2)


def test_a_narrower_stream_is_zero_padded_only_with_stream_pad():
    """``stream_channels`` c narrower than the first unit's C (``stream_pad``): the stream
    fills the first c channels of m_0 (float64 reference, ResNet's option-A identity); without
    it a width mismatch is a clear error."""
    torch.manual_seed(0)
    units = [unit(4, 8), unit(8, 8)]
    stage = MembraneShortcutStage(*units, stream_in=True, stream_channels=4).double().eval()
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    stream = torch.randn(2, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    out, m = stage(x, stream=stream, return_membrane=True)
    z1 = units[0].bn(units[0].conv(x))
    m1 = z1 + torch.cat([stream, torch.zeros_like(stream)], dim=1)
    m2 = m1 + units[1].bn(units[1].conv(torch.relu(m1)))
    torch.testing.assert_close(m, m2, rtol=0, atol=1e-12)
    g, = torch.autograd.grad(out.sum(), stream)
    assert g.abs().max() > 0
    strict = MembraneShortcutStage(*units, stream_in=True).double().eval()
    with pytest.raises(ValueError, match='stream has 4 channels, the first unit 8'):
        strict(x, stream=stream)
    with pytest.raises(ValueError, match='stream has 16 channels'):  # never truncated
        stage(x, stream=torch.randn(2, 16, 6, 6, dtype=torch.float64))
