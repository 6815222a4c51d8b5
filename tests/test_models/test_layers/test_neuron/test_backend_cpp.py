"""``HoyerSpike(impl='cpp')`` (and the CPU default ``'auto'``): the training step on the fused
C++ kernels equals the eager step and the float64 reference."""
import pytest
import torch

from mmdet_hoyer.models.layers import (HoyerSpike, hoyer_neuron_train, hoyer_square,
                                       set_regularize, take_hoyer_terms)
from mmdet_hoyer.models.layers.neuron import backend_cpp, backend_torch, backends
from mmdet_hoyer.models.layers.neuron.backend_cpp import hoyer_neuron_train_cpu
from mmdet_hoyer.models.layers.neuron.backend_cpp import \
    unavailable_reason as cpu_kernel_unavailable_reason

from test_backend_compile import step as compiled_step

pytestmark = pytest.mark.skipif(cpu_kernel_unavailable_reason(torch.device('cpu')) is not None,
                                reason='the fused CPU kernels cannot be built here')
DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def step(fn, z, grad_o, theta, per_channel, reg_weight=3.0, **kw):
    """One training step of ``fn`` (test_backend_compile.step); ``reg_weight=0``: no regularizer."""
    return compiled_step(fn, z, grad_o, theta, per_channel, reg_weight=reg_weight, **kw)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('per_channel', [False, True])
@pytest.mark.parametrize('exclude_saturated', [False, True])
@pytest.mark.parametrize('reg_theta_grad', [True, False])
@pytest.mark.parametrize('shape', [(3, 4, 6, 5), (2, 3, 97, 131)])  # 2nd: many blocks + tails
def test_fused_step_equals_eager_step(dtype, per_channel, exclude_saturated, reg_theta_grad,
                                      shape):
    g = torch.Generator().manual_seed(7)
    z = (torch.randn(*shape, generator=g) * 1.4).to(dtype)
    grad_o = torch.randn(*shape, generator=g).to(dtype)
    theta = torch.tensor(0.9)
    kw = dict(exclude_saturated=exclude_saturated, reg_theta_grad=reg_theta_grad)
    o0, e0, gz0, gt0, (a0, b0) = step(hoyer_neuron_train, z, grad_o, theta, per_channel, **kw)
    o1, e1, gz1, gt1, (a1, b1) = step(hoyer_neuron_train_cpu, z, grad_o, theta, per_channel,
                                      **kw)
    assert o1.dtype == dtype and gz1.dtype == dtype and e1.dtype == torch.float32
    assert a1.shape == a0.shape and e1.shape == e0.shape
    # the moments against float64 (the fused sums are float64-accumulated)
    c = (z.double() / 0.9).clamp(0, 1) if dtype == torch.float32 else \
        (z.float() / theta).double().clamp(0, 1)
    dims = (0, 2, 3) if per_channel else (0, 1, 2, 3)
    torch.testing.assert_close(a1.double(), c.sum(dims), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(b1.double(), c.square().sum(dims), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(a1, a0, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(e1, e0, rtol=1e-5, atol=1e-7)
    # H = (Σc)²/Σc² (the regularizer) against float64
    torch.testing.assert_close(hoyer_square(a1, b1).double(), c.sum().square() / c.square().sum(),
                               rtol=1e-5, atol=0)
    # the spikes are the neuron's rule 1[z/|θ| ≥ E] on the same float32 u, bit for bit
    u = z.float() / theta
    thr = e1.reshape(1, -1, 1, 1) if per_channel else e1
    assert torch.equal(o1, (u >= thr).to(dtype))
    # the same E gives the same spikes as the eager step (E may differ in the last bit)
    thr0 = e0.reshape(1, -1, 1, 1) if per_channel else e0
    assert torch.equal(o0, (u >= thr0).to(dtype))
    scale = float(gz0.float().abs().max())
    torch.testing.assert_close(gz1.float(), gz0.float(), rtol=1e-5, atol=1e-5 * scale
                               if dtype == torch.float32 else 1e-2 * scale)
    torch.testing.assert_close(gt1, gt0, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('dtype', DTYPES)
def test_gradient_to_z_is_bit_equal_to_the_eager_step_for_the_same_extremum(dtype):
    """Every element-wise expression is the eager one in the same float32 order: with no
    regularizer ∂L/∂z does not depend on E, and it is bit-equal."""
    g = torch.Generator().manual_seed(3)
    z = (torch.randn(2, 5, 33, 17, generator=g) * 1.4).to(dtype)
    grad_o = torch.randn(2, 5, 33, 17, generator=g).to(dtype)
    theta = torch.tensor(1.1)
    _, _, gz0, _, _ = step(hoyer_neuron_train, z, grad_o, theta, False, reg_weight=0)
    _, _, gz1, _, _ = step(hoyer_neuron_train_cpu, z, grad_o, theta, False, reg_weight=0)
    assert torch.equal(gz1, gz0)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reg_theta_grad', [True, False])
def test_window_edges_and_gradients_match_float64_reference(dtype, reg_theta_grad):
    """u exactly at the surrogate window's edges (lower, upper), the clip range (0, 1) and the
    extremum: the fused backward's masks are the paper's, right-closed window
    ``lower < u ≤ upper`` and open clip range ``0 < u < 1``; also past the saved bounds."""
    scale, lower, upper = 0.5, -0.5, 1.5
    base = [-0.5, 1.5, 0.0, 1.0, 0.5, 0.25, 2.0, -1.0, 0.75, 1.5, -0.5, 0.5, 4.0, -3.0]
    z = torch.tensor(base * 6, dtype=dtype).reshape(2, 3, 7, 2)  # |θ| = 1: u = z
    grad_o = torch.linspace(-1, 1, z.numel()).reshape(z.shape).to(dtype)
    o, e, gz, gt, _ = step(hoyer_neuron_train_cpu, z, grad_o, torch.tensor(1.0), False,
                           reg_theta_grad=reg_theta_grad, surrogate=(scale, lower, upper),
                           reg_weight=0.7)
    u = z.double()
    c = u.clamp(0, 1)
    s1, s2 = c.sum(), c.square().sum()
    torch.testing.assert_close(e.double(), s2 / s1, rtol=1e-6, atol=0)
    assert torch.equal(o, (z.float() >= e).to(dtype))
    g1, g2 = 0.7 * 2 * s1 / s2, -0.7 * s1.square() / s2.square()
    sur = scale * grad_o.double() * ((u > lower) & (u <= upper)).double()
    reg = (g1 + 2 * g2 * u) * ((u > 0) & (u < 1)).double()
    # the saved u is bounded to [-2, 3] (saved_bounds): θ's gradient sees the bounded value,
    # which only matters where both masks are 0, i.e. never
    gt_ref = -((sur + reg) * u).sum() if reg_theta_grad else -(sur * u).sum()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(gz.double(), sur + reg, **tol)
    torch.testing.assert_close(gt.double(), gt_ref, rtol=1e-5, atol=1e-5)
    flat_u, flat_g = u.flatten(), gz.double().flatten()
    for value, inside in ((upper, True), (lower, False), (4.0, False), (-3.0, False)):
        idx = (flat_u == value).nonzero().flatten()
        expect = scale * grad_o.double().flatten()[idx] if inside else \
            torch.zeros(len(idx), dtype=torch.float64)
        torch.testing.assert_close(flat_g[idx], expect, **tol)
    for value in (0.0, 1.0):  # no regularizer gradient at the clip range's ends
        idx = (flat_u == value).nonzero().flatten()
        torch.testing.assert_close(flat_g[idx], scale * grad_o.double().flatten()[idx], **tol)


@pytest.mark.parametrize('per_channel', [False, True])
@pytest.mark.parametrize('reg_theta_grad', [True, False])
@pytest.mark.parametrize('use_moments', [False, True])
def test_with_hoyer_equals_hoyer_square_of_the_moments(per_channel, reg_theta_grad,
                                                       use_moments):
    """``with_hoyer=True`` returns H and folds its gradient into the neuron's backward: the
    same value and gradients as ``hoyer_square(s1, s2)`` on the returned moments (also when
    the moments themselves feed another term)."""
    g = torch.Generator().manual_seed(11)
    z = torch.randn(2, 5, 9, 7, generator=g) * 1.2
    grad_o = torch.randn(z.shape, generator=g)
    fallback = torch.ones(5) if per_channel else torch.ones(())
    res = []
    for fused in (False, True):
        zz = z.clone().requires_grad_()
        th = torch.tensor(0.8, requires_grad=True)
        out = hoyer_neuron_train_cpu(zz, th.abs(), fallback, per_channel,
                                     reg_theta_grad=reg_theta_grad, with_hoyer=fused)
        o, e, s1, s2 = out[:4]
        h = out[4] if fused else hoyer_square(s1, s2)
        loss = (o * grad_o).sum() + 0.3 * h
        if use_moments:  # a per-channel term on the moments as well
            loss = loss + (s1 * torch.linspace(0.1, 0.5, s1.numel()).reshape(s1.shape)).sum() \
                - 0.01 * s2.sum()
        loss.backward()
        res.append((o, e, h.detach(), zz.grad, th.grad))
    (o0, e0, h0, gz0, gt0), (o1, e1, h1, gz1, gt1) = res
    assert torch.equal(o1, o0) and torch.equal(e1, e0)
    # per channel the kernel sums the C moments in float64 (torch: a float32 sum): H may
    # differ in the last bit
    torch.testing.assert_close(h1, h0, rtol=1e-6, atol=0)
    if not per_channel:
        assert torch.equal(h1, h0)
    torch.testing.assert_close(gz1, gz0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gt1, gt0, rtol=1e-5, atol=1e-5)


def test_with_hoyer_on_a_silent_layer_is_zero_with_zero_gradient():
    z = -torch.rand(2, 3, 4, 4)
    zz = z.clone().requires_grad_()
    o, e, s1, s2, h = hoyer_neuron_train_cpu(zz, torch.tensor(1.0), torch.ones(()),
                                             with_hoyer=True)
    (o.sum() + h).backward()
    assert h.item() == 0 and torch.isfinite(zz.grad).all()


def test_non_contiguous_and_infinite_inputs():
    torch.manual_seed(1)
    z = torch.randn(2, 6, 9, 9).permute(0, 1, 3, 2)  # a transposed view
    z[0, 0, 0, :3] = torch.tensor([float('inf'), -float('inf'), 70000.0])
    grad_o = torch.randn(z.shape)
    theta = torch.tensor(0.8)
    o0, e0, gz0, gt0, _ = step(hoyer_neuron_train, z, grad_o, theta, True)
    o1, e1, gz1, gt1, _ = step(hoyer_neuron_train_cpu, z, grad_o, theta, True)
    assert torch.isfinite(gz1).all() and torch.isfinite(gt1)
    torch.testing.assert_close(e1, e0, rtol=1e-5, atol=1e-7)
    assert torch.equal(o1, o0)
    torch.testing.assert_close(gz1, gz0, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gt1, gt0, rtol=1e-4, atol=1e-4)


def test_silent_batch_keeps_the_fallback_and_no_unit_fires():
    z = -torch.rand(2, 3, 4, 4)
    o, e, gz, gt, (s1, s2) = step(hoyer_neuron_train_cpu, z, torch.ones(z.shape),
                                  torch.tensor(1.0), False)
    assert e.item() == 1.0 and o.sum() == 0 and s1.item() == 0 and s2.item() == 0
    assert torch.isfinite(gz).all() and torch.isfinite(gt)


def test_results_do_not_depend_on_the_run_and_spikes_not_on_the_thread_count():
    g = torch.Generator().manual_seed(5)
    z = torch.randn(4, 8, 64, 64, generator=g)  # > one parallel grain per thread
    grad_o = torch.randn(z.shape, generator=g)
    theta = torch.tensor(1.2)
    first = step(hoyer_neuron_train_cpu, z, grad_o, theta, True)
    again = step(hoyer_neuron_train_cpu, z, grad_o, theta, True)
    for a, b in zip(first[:4], again[:4]):
        assert torch.equal(a, b)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = step(hoyer_neuron_train_cpu, z, grad_o, theta, True)
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(single[1], first[1], rtol=1e-6, atol=0)
    u = z / theta
    assert torch.equal(single[0], (u >= single[1].reshape(1, -1, 1, 1)).float())
    torch.testing.assert_close(single[2], first[2], rtol=1e-5, atol=1e-6)


def test_neuron_impl_switch_and_errors(monkeypatch):
    torch.manual_seed(0)
    z = torch.randn(2, 3, 5, 5)
    outs = {}
    for impl in ('torch', 'cpp', 'auto'):
        neuron = HoyerSpike(impl=impl)
        set_regularize(neuron, True)
        zz = z.clone().requires_grad_()
        o = neuron(zz)
        h = take_hoyer_terms(neuron)[0]
        (o.sum() + h).backward()
        outs[impl] = (o, zz.grad, neuron.threshold.grad, neuron.running_extremum.clone(),
                      h.detach())
        assert (f'impl={impl!r}' in repr(neuron)) == (impl != 'auto')
    for impl in ('cpp', 'auto'):
        assert torch.equal(outs[impl][0], outs['torch'][0])
        torch.testing.assert_close(outs[impl][1], outs['torch'][1])
        torch.testing.assert_close(outs[impl][2], outs['torch'][2], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(outs[impl][3], outs['torch'][3])
        torch.testing.assert_close(outs[impl][4], outs['torch'][4])
    # the default is 'auto': the fused kernels for CPU tensors, the eager step on CUDA
    auto = HoyerSpike()
    assert auto.impl == 'auto' and auto.resolved_impl(z.device) == 'cpp'
    assert backends.train_step('auto', z.device) is backend_cpp.step
    assert auto.resolved_impl(torch.device('cuda')) == 'torch'
    assert backends.train_step('auto', torch.device('cuda')) is backend_torch.step
    with pytest.raises(ValueError, match='must be a CPU tensor'):
        hoyer_neuron_train_cpu(torch.zeros(2, 2, device='meta'), torch.ones(()), torch.ones(()))
    # where the kernels cannot be built: 'cpp' says why, 'auto' falls back to the eager step
    monkeypatch.setitem(backends.BACKENDS, 'cpp',
                        (backend_cpp.step, lambda device: 'no C++ compiler (test)'))
    with pytest.raises(RuntimeError, match=r"impl='cpp' cannot run here: no C\+\+ compiler"):
        HoyerSpike(impl='cpp')(z.clone().requires_grad_())
    with pytest.warns(UserWarning, match=r"eager neuron.*|no C\+\+ compiler"):
        assert auto.resolved_impl(z.device) == 'torch'


@pytest.mark.parametrize('mode', ['layer', 'channel'])
def test_running_estimate_is_updated_like_the_eager_neuron(mode):
    """Every backend's running estimate is updated in one place (the module) from the returned
    extremum: the fused step's equals the eager one's, for float32 and other buffers."""
    torch.manual_seed(4)
    batches = [torch.randn(2, 3, 4, 4) * s for s in (1.0, 0.5, 2.0)]
    for dtype in (torch.float32, torch.float64):
        neurons = {impl: HoyerSpike(mode=mode, momentum=0.3, impl=impl) for impl in ('torch',
                                                                                  'cpp')}
        for impl, neuron in neurons.items():
            neuron(batches[0])  # 'channel' mode sizes its buffer at the first forward
            neuron.running_extremum = neuron.running_extremum.to(dtype)
            for z in batches[1:]:
                neuron(z)
        a, b = neurons['torch'].running_extremum, neurons['cpp'].running_extremum
        assert b.dtype == dtype
        torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
        assert not torch.equal(b, torch.ones_like(b))
