"""``HoyerSpike(impl='compile')``: the torch.compile-d training step equals the eager one and the
float64 reference (CPU here; CUDA when present)."""
import pytest
import torch

from mmdet_hoyer.models.layers import (HoyerSpike, hoyer_neuron_train, hoyer_square,
                                       set_regularize, take_hoyer_terms)
from mmdet_hoyer.models.layers.neuron import backend_compile, backends
from mmdet_hoyer.models.layers.neuron.backend_compile import hoyer_neuron_train_compiled
from mmdet_hoyer.models.layers.neuron.backend_compile import \
    unavailable_reason as compile_unavailable_reason

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
pytestmark = pytest.mark.skipif(compile_unavailable_reason(torch.device('cpu')) is not None,
                                reason='torch.compile cannot build CPU kernels here')


def step(fn, z, grad_o, theta, per_channel, reg_theta_grad=True, exclude_saturated=False,
         surrogate=(0.5, 0.0, 2.0), reg_weight=3.0):
    zz = z.clone().requires_grad_()
    th = theta.clone().requires_grad_()
    fallback = torch.ones(z.shape[1], device=z.device) if per_channel \
        else torch.ones((), device=z.device)
    o, e, s1, s2 = fn(zz, th.abs(), fallback, per_channel, surrogate, reg_theta_grad,
                      exclude_saturated=exclude_saturated)
    ((o * grad_o).float().sum() + reg_weight * hoyer_square(s1, s2)).backward()
    return o.detach(), e, zz.grad, th.grad, (s1.detach(), s2.detach())


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize('per_channel', [False, True])
@pytest.mark.parametrize('exclude_saturated', [False, True])
def test_compiled_step_equals_eager_step(device, dtype, per_channel, exclude_saturated):
    g = torch.Generator().manual_seed(7)
    z = (torch.randn(3, 4, 6, 5, generator=g) * 1.4).to(device, dtype)
    grad_o = torch.randn(3, 4, 6, 5, generator=g).to(device, dtype)
    theta = torch.tensor(0.9, device=device)
    o0, e0, gz0, gt0, (a0, b0) = step(hoyer_neuron_train, z, grad_o, theta, per_channel,
                                      exclude_saturated=exclude_saturated)
    o1, e1, gz1, gt1, (a1, b1) = step(hoyer_neuron_train_compiled, z, grad_o, theta,
                                      per_channel, exclude_saturated=exclude_saturated)
    assert o1.dtype == dtype and gz1.dtype == dtype and e1.dtype == torch.float32
    torch.testing.assert_close(a1, a0, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b1, b0, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(e1, e0, rtol=1e-5, atol=1e-7)
    # the spikes are the neuron's rule 1[z/|θ| ≥ E] on the same float32 u, bit for bit
    u = z.float() / theta
    thr = e1.reshape(1, -1, 1, 1) if per_channel else e1
    assert torch.equal(o1, (u >= thr).to(dtype))
    assert torch.equal(o1, o0)
    scale = float(gz0.float().abs().max())
    torch.testing.assert_close(gz1.float(), gz0.float(), rtol=1e-5, atol=1e-5 * scale
                               if dtype == torch.float32 else 1e-2 * scale)
    torch.testing.assert_close(gt1, gt0, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize('reg_theta_grad', [True, False])
def test_window_edges_and_gradients_match_float64_reference(dtype, reg_theta_grad):
    """u exactly at the surrogate window's edges (lower, upper), the clip range (0, 1) and the
    extremum: the compiled backward's masks are the paper's, right-closed window
    ``lower < u ≤ upper`` and open clip range ``0 < u < 1``."""
    scale, lower, upper = 0.5, -0.5, 1.5
    # |θ| = 1, so u = z; E = Σc²/Σc of these values = (0.25·4 + 1·4 + ...)/...
    base = [-0.5, 1.5, 0.0, 1.0, 0.5, 0.25, 2.0, -1.0, 0.75, 1.5, -0.5, 0.5]
    z = torch.tensor(base * 4, dtype=dtype).reshape(2, 3, 4, 2)
    grad_o = torch.linspace(-1, 1, z.numel()).reshape(z.shape).to(dtype)
    theta = torch.tensor(1.0)
    o, e, gz, gt, _ = step(hoyer_neuron_train_compiled, z, grad_o, theta, False,
                           reg_theta_grad=reg_theta_grad, surrogate=(scale, lower, upper),
                           reg_weight=0.7)
    u = z.double()
    c = u.clamp(0, 1)
    s1, s2 = c.sum(), c.square().sum()
    e_ref = s2 / s1
    torch.testing.assert_close(e.double(), e_ref, rtol=1e-6, atol=0)
    assert torch.equal(o, (z.float() >= e).to(dtype))
    # ∂(0.7·H)/∂s1 = 0.7·2s1/s2, ∂/∂s2 = −0.7·s1²/s2²
    g1, g2 = 0.7 * 2 * s1 / s2, -0.7 * s1.square() / s2.square()
    window = ((u > lower) & (u <= upper)).double()
    clip = ((u > 0) & (u < 1)).double()
    sur = scale * grad_o.double() * window
    reg = (g1 + 2 * g2 * u) * clip
    gz_ref = sur + reg
    gt_ref = -((sur + reg) * u).sum() if reg_theta_grad else -(sur * u).sum()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(gz.double(), gz_ref, **tol)
    torch.testing.assert_close(gt.double(), gt_ref, rtol=1e-5, atol=1e-5)
    # the edges themselves: u = upper is inside the window, u = lower is not; u = 0 and u = 1
    # get no regularizer gradient
    flat_u, flat_g = u.flatten(), gz.double().flatten()
    for value, inside in ((upper, True), (lower, False)):
        idx = (flat_u == value).nonzero().flatten()
        expect = scale * grad_o.double().flatten()[idx] if inside else torch.zeros(len(idx),
                                                                                    dtype=torch.float64)
        torch.testing.assert_close(flat_g[idx], expect, **tol)
    for value in (0.0, 1.0):
        idx = (flat_u == value).nonzero().flatten()
        torch.testing.assert_close(flat_g[idx], scale * grad_o.double().flatten()[idx], **tol)


def test_neuron_impl_switch_and_errors(monkeypatch):
    torch.manual_seed(0)
    z = torch.randn(2, 3, 5, 5)
    outs = {}
    for impl in ('torch', 'compile', 'auto'):
        neuron = HoyerSpike(impl=impl)
        set_regularize(neuron, True)
        zz = z.clone().requires_grad_()
        o = neuron(zz)
        (o.sum() + take_hoyer_terms(neuron)[0]).backward()
        outs[impl] = (o, zz.grad, neuron.threshold.grad, neuron.running_extremum.clone())
        assert (f"impl={impl!r}" in repr(neuron)) == (impl != 'auto')
    for impl in ('compile', 'auto'):
        assert torch.equal(outs[impl][0], outs['torch'][0])
        torch.testing.assert_close(outs[impl][1], outs['torch'][1])
        torch.testing.assert_close(outs[impl][2], outs['torch'][2], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(outs[impl][3], outs['torch'][3])
    with pytest.raises(ValueError, match="HoyerSpike: impl must be one of"):
        HoyerSpike(impl='triton')
    # 'auto' never picks the compiled step (not measured faster anywhere yet: the fused C++
    # kernels on the CPU, the eager step on CUDA); 'compile' is explicit
    cuda = torch.device('cuda')
    monkeypatch.setitem(backends.BACKENDS, 'compile', (backend_compile.step, lambda device: None))
    assert HoyerSpike(impl='auto').resolved_impl(cuda) == 'torch'
    assert HoyerSpike(impl='compile').resolved_impl(cuda) == 'compile'
    assert backends.train_step('compile', cuda) is backend_compile.step
    # where torch.compile cannot run, 'compile' says why
    monkeypatch.setitem(backends.BACKENDS, 'compile',
                        (backend_compile.step, lambda device: 'no C++ compiler (test)'))
    with pytest.raises(RuntimeError, match=r"impl='compile' cannot run here: no C\+\+ compiler"):
        HoyerSpike(impl='compile')(z.clone().requires_grad_())
