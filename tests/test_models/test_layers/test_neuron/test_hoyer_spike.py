import pytest
import torch
from mmcv.cnn import ConvModule

from mmdet.registry import MODELS
from mmdet_hoyer.models.layers import (HoyerSpike, set_record_stats, set_regularize, set_warmup,
                                       take_hoyer_terms)
from mmdet_hoyer.models.layers.neuron.backend_compile import unavailable_reason as compile_unavailable_reason
from mmdet_hoyer.models.layers.neuron.backend_cpp import unavailable_reason as cpu_kernel_unavailable_reason


def ref_extremum(z64, theta, per_channel=False):
    c = (z64 / abs(theta)).clamp(0, 1)
    dims = (0, 2, 3) if per_channel else tuple(range(z64.dim()))
    return c.square().sum(dims) / c.sum(dims)


@pytest.mark.parametrize('mode', ['layer', 'channel'])
def test_training_forward_updates_running_and_eval_uses_it(mode):
    neuron = HoyerSpike(mode=mode)
    with torch.no_grad():
        neuron.threshold.fill_(-0.9)  # |θ| is used
    z = torch.randn(4, 3, 6, 6)
    o = neuron(z)
    e_ref = ref_extremum(z.double(), 0.9, mode == 'channel')
    expected_running = 0.9 * 1.0 + 0.1 * e_ref
    torch.testing.assert_close(neuron.running_extremum.double(),
                               expected_running.reshape(-1), rtol=1e-5, atol=1e-6)
    u = z.double() / 0.9
    e_b = e_ref.reshape(1, -1, 1, 1) if mode == 'channel' else e_ref
    far = (u - e_b).abs() > 1e-5
    assert torch.equal(o.double()[far], (u >= e_b).double()[far])

    # a second batch moves the running estimate again; eval uses it and changes nothing
    neuron(torch.randn(4, 3, 6, 6))
    running = neuron.running_extremum.clone()
    neuron.eval()
    z2 = torch.randn(2, 3, 5, 5)
    o2 = neuron(z2)
    assert torch.equal(neuron.running_extremum, running)
    r_b = running.reshape(1, -1, 1, 1) if mode == 'channel' else running
    assert torch.equal(o2, (z2 / 0.9 >= r_b).float())
    assert take_hoyer_terms(neuron) == []


def test_output_is_binary_in_input_dtype():
    neuron = HoyerSpike()
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        o = neuron(torch.randn(2, 4, 3, 3).to(dtype))
        assert o.dtype == dtype
        assert set(o.unique().tolist()) <= {0.0, 1.0}


def test_surrogate_gradient_reaches_z_and_theta():
    neuron = HoyerSpike()
    z = torch.randn(2, 3, 4, 4, requires_grad=True)
    neuron(z).sum().backward()
    u = z.detach()
    torch.testing.assert_close(z.grad, 0.5 * ((u > 0) & (u <= 2)).float())
    torch.testing.assert_close(neuron.threshold.grad, -(0.5 * u * ((u > 0) & (u <= 2))).sum())


def test_regularizer_term_only_when_asked_and_only_in_training():
    neuron = HoyerSpike()
    z = torch.randn(2, 3, 4, 4, requires_grad=True)
    neuron(z)
    assert take_hoyer_terms(neuron) == []
    set_regularize(neuron, True)
    neuron(z)
    c = z.detach().double().clamp(0, 1)
    (h, ) = take_hoyer_terms(neuron)
    torch.testing.assert_close(h.double(), c.sum()**2 / c.square().sum(), rtol=1e-5, atol=0)
    assert h.requires_grad and take_hoyer_terms(neuron) == []  # handed over once
    neuron.eval()
    neuron(z)
    assert take_hoyer_terms(neuron) == []
    neuron.train()
    neuron(z)
    set_regularize(neuron, False)  # switching off drops a term not taken
    assert take_hoyer_terms(neuron) == []


def test_silent_batch_keeps_running_and_has_no_nan():
    neuron = HoyerSpike(mode='layer')
    set_regularize(neuron, True)
    set_record_stats(neuron, True)
    z = (-torch.rand(2, 3, 4, 4)).requires_grad_()
    o = neuron(z)
    (h, ) = take_hoyer_terms(neuron)
    (o.sum() + h).backward()
    assert neuron.running_extremum.item() == 1.0  # unchanged: the fallback is the estimate
    assert o.sum() == 0 and h.item() == 0
    assert neuron.last_firing_rate.item() == 0
    assert torch.isfinite(z.grad).all() and torch.isfinite(neuron.threshold.grad).all()


def test_channel_mode_buffer_is_lazy_and_loads_from_checkpoint():
    a = HoyerSpike(mode='channel')
    a(torch.randn(2, 5, 3, 3))
    assert a.running_extremum.shape == (5, )
    b = HoyerSpike(mode='channel')
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.running_extremum, b.running_extremum)
    with pytest.raises(RuntimeError, match='built for 5 channels'):
        a(torch.randn(2, 4, 3, 3))


def test_state_dict_holds_threshold_and_running_extremum():
    sd = HoyerSpike().state_dict()
    assert set(sd) == {'threshold', 'running_extremum'}


@pytest.mark.parametrize('kwargs, field', [
    (dict(mode='cw'), 'mode'),
    (dict(momentum=0.0), 'momentum'),
    (dict(momentum=1.5), 'momentum'),
    (dict(init_threshold=0), 'init_threshold'),
    (dict(surrogate_scale=0.0), 'surrogate_scale'),
    (dict(surrogate_lower=2.0, surrogate_upper=1.0), 'surrogate_lower'),
    (dict(surrogate_lower=1.0, surrogate_upper=3.0), 'surrogate window'),
])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        HoyerSpike(**kwargs)


def test_convmodule_accepts_hoyer_spike_act_cfg():
    conv = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN'), act_cfg=dict(type='HoyerSpike'))
    assert isinstance(conv.activate, HoyerSpike)
    out = conv(torch.randn(2, 3, 8, 8))
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert isinstance(MODELS.build(dict(type='HoyerSpike', mode='channel')), HoyerSpike)


FUSED_IMPLS = [
    pytest.param('compile', marks=pytest.mark.skipif(
        compile_unavailable_reason(torch.device('cpu')) is not None,
        reason='torch.compile cannot build CPU kernels here')),
    pytest.param('cpp', marks=pytest.mark.skipif(
        cpu_kernel_unavailable_reason(torch.device('cpu')) is not None,
        reason='the fused CPU kernels cannot be built here')),
]


@pytest.mark.parametrize('impl', FUSED_IMPLS)
@pytest.mark.parametrize('ramp', ['surrogate', 'relu'])
@pytest.mark.parametrize('mode', ['layer', 'channel'])
def test_warmup_mixes_are_the_same_with_a_fused_step(impl, ramp, mode):
    torch.manual_seed(3)
    z = torch.randn(2, 4, 5, 5) * 1.3
    results = []
    for name in ('torch', impl):
        neuron = HoyerSpike(mode=mode, impl=name)
        set_regularize(neuron, True)
        set_warmup(neuron, 0.4, ramp)
        zz = z.clone().requires_grad_()
        out = neuron(zz)
        ((out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum()
         + take_hoyer_terms(neuron)[0]).backward()
        results.append((out.detach(), zz.grad, neuron.threshold.grad))
    (o0, gz0, gt0), (o1, gz1, gt1) = results
    torch.testing.assert_close(o1, o0, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(gz1, gz0, rtol=1e-5, atol=1e-5 * float(gz0.abs().max()))
    torch.testing.assert_close(gt1, gt0, rtol=1e-4, atol=1e-6)
