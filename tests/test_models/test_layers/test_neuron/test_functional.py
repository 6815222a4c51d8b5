"""The neuron maths against a float64 reference written with plain autograd."""
import pytest
import torch

from mmdet_hoyer.models.layers import (BoxcarSurrogate, clipped_moments, hoyer_extremum,
                                       hoyer_neuron_train, spike,
                                       hoyer_square, update_running)


def reference(z64, theta64, per_channel=False, scale=0.5, lower=0.0, upper=2.0):
    """Plain float64 formulas of the paper: u, c, E, spikes (straight-through), H."""
    t = theta64.abs()
    u = z64 / t
    c = u.clamp(0, 1)
    dims = (0, 2, 3) if per_channel else tuple(range(z64.dim()))
    e = (c.detach().square().sum(dims) / c.detach().sum(dims))
    e_b = e.reshape(1, -1, 1, 1) if per_channel else e
    hard = (u >= e_b).to(u.dtype)
    mask = ((u > lower) & (u <= upper)).to(u.dtype).detach()
    sur = scale * u * mask
    spikes = hard.detach() + (sur - sur.detach())
    h = c.sum().square() / c.square().sum()
    return u, e, spikes, h


@pytest.mark.parametrize('per_channel', [False, True])
def test_moments_extremum_and_hoyer_square_match_reference(per_channel):
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    z = torch.randn(4, 6, 5, 7, generator=g) * 1.5
    theta = torch.tensor(0.8)
    s1, s2 = clipped_moments(z, theta, per_channel)
    e = hoyer_extremum(s1, s2, fallback=torch.ones(()))
    h = hoyer_square(s1, s2)
    _, e_ref, _, h_ref = reference(z.double(), theta.double(), per_channel)
    assert s1.dtype == torch.float32
    torch.testing.assert_close(e.double(), e_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h.double(), h_ref, rtol=1e-5, atol=1e-4)
    assert ((e > 0) & (e <= 1)).all()


@pytest.mark.parametrize('detach', [False, True])
def test_hoyer_square_gradient_matches_reference(detach):
    z = (torch.randn(3, 4, 6, 6) * 2).requires_grad_()
    theta = torch.tensor(-0.6, requires_grad=True)  # |θ| is used: the sign is irrelevant
    t = theta.abs().detach() if detach else theta.abs()
    s1, s2 = clipped_moments(z, t)
    hoyer_square(s1, s2).backward()

    z64 = z.detach().double().requires_grad_()
    th64 = theta.detach().double().requires_grad_()
    t64 = th64.abs().detach() if detach else th64.abs()
    c = (z64 / t64).clamp(0, 1)
    (c.sum().square() / c.square().sum()).backward()
    torch.testing.assert_close(z.grad.double(), z64.grad, rtol=1e-4, atol=1e-6)
    if detach:
        assert theta.grad is None or theta.grad.abs().item() == 0
    else:
        torch.testing.assert_close(theta.grad.double(), th64.grad, rtol=1e-4, atol=1e-5)
        assert theta.grad.abs().item() > 0


def test_spikes_and_surrogate_gradient_match_reference():
    z = (torch.randn(2, 5, 8, 8) * 1.3).requires_grad_()
    theta = torch.tensor(1.2, requires_grad=True)
    with torch.no_grad():
        s1, s2 = clipped_moments(z, theta.abs())
        e = hoyer_extremum(s1, s2, torch.ones(()))
    o = spike(z, theta.abs(), e)
    assert o.dtype == z.dtype and set(o.unique().tolist()) <= {0.0, 1.0}
    grad_out = torch.randn_like(o)
    (o * grad_out).sum().backward()

    z64 = z.detach().double().requires_grad_()
    th64 = theta.detach().double().requires_grad_()
    u64, e64, spikes64, _ = reference(z64, th64)
    # forward: identical away from the threshold (float32 vs float64 rounding there)
    far = (u64 - e64).abs() > 1e-5
    assert torch.equal(o.double()[far], spikes64.detach()[far])
    (spikes64 * grad_out.double()).sum().backward()
    torch.testing.assert_close(z.grad.double(), z64.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(theta.grad.double(), th64.grad, rtol=1e-4, atol=1e-6)
    # the surrogate is exactly 0.5 / |θ| inside (0, 2] of u and 0 outside
    u = z.detach() / 1.2
    inside = (u > 0) & (u <= 2)
    torch.testing.assert_close(z.grad[inside], grad_out[inside] * 0.5 / 1.2)
    assert (z.grad[~inside] == 0).all()


def test_custom_surrogate_window_and_scale():
    z = torch.linspace(-1, 4, 101).reshape(1, 1, 1, -1).requires_grad_()
    o = spike(z, torch.tensor(1.0), torch.tensor(0.5), BoxcarSurrogate(1.0, 0.5, 1.5))
    o.sum().backward()
    u = z.detach()
    expected = ((u > 0.5) & (u <= 1.5)).float()
    assert torch.equal(z.grad, expected)


def test_silent_input_has_no_nan():
    z = -torch.rand(2, 3, 4, 4).requires_grad_()  # every c = 0
    z.retain_grad()
    theta = torch.tensor(1.0, requires_grad=True)
    s1, s2 = clipped_moments(z, theta.abs(), per_channel=True)
    e = hoyer_extremum(s1, s2, fallback=torch.full((3, ), 0.37))
    assert torch.equal(e, torch.full((3, ), 0.37))
    h = hoyer_square(s1, s2)
    o = spike(z, theta.abs(), e)
    (h + o.sum()).backward()
    assert h.item() == 0 and o.sum().item() == 0
    assert torch.isfinite(z.grad).all() and torch.isfinite(theta.grad).all()


def test_extremum_never_zero_even_when_squares_underflow():
    z = torch.full((1, 1, 4, 4), 1e-30)
    s1, s2 = clipped_moments(z, torch.tensor(1.0))
    e = hoyer_extremum(s1, s2, torch.ones(()))
    assert e.item() > 0
    assert spike(torch.zeros(1, 1, 2, 2), torch.tensor(1.0), e).sum() == 0


def test_update_running_is_bn_style():
    r = torch.tensor([1.0])
    update_running(r, torch.tensor(0.5), momentum=0.1)
    torch.testing.assert_close(r, torch.tensor([0.95]))


@pytest.mark.parametrize('per_channel', [False, True])
@pytest.mark.parametrize('reg_theta_grad', [True, False])
def test_fused_training_step_equals_the_composed_functions(per_channel, reg_theta_grad):
    torch.manual_seed(0)  # unseeded, the inputs depended on which tests ran before
    z = (torch.randn(3, 4, 6, 5) * 1.4)
    grad_o = torch.randn(3, 4, 6, 5)
    results = []
    for fused in (True, False):
        zz = z.clone().requires_grad_()
        theta = torch.tensor(0.9, requires_grad=True)
        fallback = torch.ones(4) if per_channel else torch.ones(())
        if fused:
            o, e, s1, s2 = hoyer_neuron_train(zz, theta.abs(), fallback, per_channel,
                                              reg_theta_grad=reg_theta_grad)
        else:
            t_reg = theta.abs() if reg_theta_grad else theta.abs().detach()
            s1, s2 = clipped_moments(zz, t_reg, per_channel)
            e = hoyer_extremum(s1, s2, fallback)
            o = spike(zz, theta.abs(), e)
        ((o * grad_o).sum() + 3.0 * hoyer_square(s1, s2)).backward()
        results.append((o.detach(), e, zz.grad, theta.grad))
    (o_f, e_f, gz_f, gt_f), (o_c, e_c, gz_c, gt_c) = results
    torch.testing.assert_close(e_f, e_c)
    assert torch.equal(o_f, o_c)
    # z's gradient is the surrogate term plus the regularizer's, whose float32 sums the two paths
    # reduce in different orders; where the two terms cancel, an element's relative error is
    # large, so the tolerance is relative to the gradient's scale (over 1200 random draws the
    # largest difference was 3.7e-7 of max|grad|; a fixed atol of 1e-6 once failed at 2.1e-6)
    torch.testing.assert_close(gz_f, gz_c, rtol=1e-5, atol=1e-5 * float(gz_c.abs().max()))
    torch.testing.assert_close(gt_f, gt_c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('alpha', [0.0, 0.3, 1.0])
@pytest.mark.parametrize('surrogate', [(0.5, 0.0, 2.0), (0.3, -1.0, 2.0)])
def test_warmup_mix_forward_and_surrogate_backward(alpha, surrogate):
    """Forward (1-α)·o + α·P(u) with P the surrogate's primitive; backward = the surrogate."""
    from mmdet_hoyer.models.layers import warmup_mix
    scale, lower, upper = surrogate
    primitive = BoxcarSurrogate(*surrogate).primitive
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    z = (torch.randn(3, 4, 5, 6, generator=g) * 1.5).requires_grad_()
    theta = torch.tensor(0.7, requires_grad=True)
    e = torch.tensor(0.45)
    o = spike(z, theta.abs(), e, surrogate)
    out = warmup_mix(o, z, theta.abs(), alpha, surrogate=surrogate)
    # float64 reference of the forward
    u64 = z.detach().double() / 0.7
    p64 = scale * (u64.clamp(lower, upper) - lower)
    hard = (u64 >= 0.45).double()
    torch.testing.assert_close(out.detach().double(), (1 - alpha) * hard + alpha * p64,
                               rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(primitive(u64), p64)
    # P's derivative is the surrogate: finite differences inside the window
    du = 1e-4
    inside = (u64 > lower + du) & (u64 < upper - du)
    fd = (primitive(u64 + du) - primitive(u64 - du)) / (2 * du)
    torch.testing.assert_close(fd[inside], torch.full_like(fd[inside], scale))
    # the gradient is the spike's surrogate gradient whatever α
    w = torch.randn(z.shape, generator=g)
    gz, gt = torch.autograd.grad((out * w).sum(), (z, theta))
    mask = ((u64 > lower) & (u64 <= upper)).double()
    torch.testing.assert_close(gz.double(), w.double() * scale * mask / 0.7, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gt.double(), -(w.double() * scale * mask * u64).sum() / 0.7,
                               rtol=1e-4, atol=1e-5)
    if alpha == 0.0:
        assert out is o  # the binary spikes themselves
    with pytest.raises(ValueError, match='alpha must be in'):
        warmup_mix(o, z, theta.abs(), 1.5, surrogate=surrogate)


@pytest.mark.parametrize('alpha', [0.0, 0.4, 1.0])
def test_relu_warmup_mix_forward_and_backward(alpha):
    """(1-α)·o + α·max(z/|θ|, 0), forward and backward, against float64; θ gets only the
    spikes' surrogate gradient."""
    from mmdet_hoyer.models.layers import warmup_mix
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    z = (torch.randn(2, 5, 4, 7, generator=g) * 1.5).requires_grad_()
    theta = torch.tensor(0.8, requires_grad=True)
    e = torch.tensor(0.5)
    o = spike(z, theta.abs(), e)
    out = warmup_mix(o, z, theta.abs().detach(), alpha, ramp='relu')
    u64 = z.detach().double() / 0.8
    hard = (u64 >= 0.5).double()
    torch.testing.assert_close(out.detach().double(),
                               (1 - alpha) * hard + alpha * u64.clamp_min(0),
                               rtol=1e-6, atol=1e-6)
    w = torch.randn(z.shape, generator=g)
    gz, gt = torch.autograd.grad((out * w).sum(), (z, theta))
    box = ((u64 > 0) & (u64 <= 2)).double()
    ref_gz = w.double() * ((1 - alpha) * 0.5 * box + alpha * (u64 > 0).double()) / 0.8
    torch.testing.assert_close(gz.double(), ref_gz, rtol=1e-5, atol=1e-6)
    ref_gt = -(1 - alpha) * (w.double() * 0.5 * box * u64).sum() / 0.8
    torch.testing.assert_close(gt.double(), ref_gt, rtol=1e-4, atol=1e-5)
    if alpha == 0.0:
        assert out is o
    with pytest.raises(ValueError, match='alpha must be in'):
        warmup_mix(o, z, theta.abs(), -0.1, ramp='relu')
    with pytest.raises(ValueError, match='ramp must be one of'):
        warmup_mix(o, z, theta.abs(), 0.5, ramp='tanh')


@pytest.mark.parametrize('per_channel', [False, True])
def test_saturation_excluded_extremum_matches_float64_reference(per_channel):
    """The detection fork's extremum: saturated values (u >= 1) zeroed before E is formed;
    the spikes use it, the regularizer's moments keep the saturated values."""
    from mmdet_hoyer.models.layers import saturated_count
    g = torch.Generator().manual_seed(torch.seed() % 2**31)
    z = torch.randn(4, 6, 5, 7, generator=g) * 1.5
    z[0, 0, 0, :3] = torch.tensor([0.8, 0.8 * 1.0, 0.8 * 1.5])  # u = 1 exactly, and above
    theta = torch.tensor(0.8)
    fallback = torch.ones(6) if per_channel else torch.ones(())
    o, e, s1, s2 = hoyer_neuron_train(z, theta, fallback, per_channel, exclude_saturated=True)

    u64 = z.double() / 0.8
    c64 = u64.clamp(0, 1)
    kept = torch.where(c64 < 1, c64, torch.zeros_like(c64))  # the fork: saturated -> 0
    dims = (0, 2, 3) if per_channel else tuple(range(4))
    e_ref = kept.square().sum(dims) / kept.sum(dims)
    torch.testing.assert_close(e.double(), e_ref, rtol=1e-5, atol=1e-6)
    e_b = e_ref.reshape(1, -1, 1, 1) if per_channel else e_ref
    assert torch.equal(o, (u64 >= e_b.float().double()).float())
    # lower than the paper's extremum (saturated ones count 1 in both sums), H unchanged
    assert (e.double() < c64.square().sum(dims) / c64.sum(dims)).all()
    torch.testing.assert_close(s1.double(), c64.sum(dims), rtol=1e-5, atol=1e-4)
    n = saturated_count(z, theta, per_channel)
    torch.testing.assert_close(n.double(), (u64 >= 1).double().sum(dims))


def test_saturation_excluded_extremum_falls_back_when_only_saturated_values_fire():
    z = torch.tensor([[-1.0, 2.0, 3.0, -0.5]])  # every positive value saturates
    o, e, _, _ = hoyer_neuron_train(z, torch.tensor(1.0), torch.tensor(0.4),
                                    exclude_saturated=True)
    assert float(e) == pytest.approx(0.4) and torch.equal(o, torch.tensor([[0., 1., 1., 0.]]))
