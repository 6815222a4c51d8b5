"""Saved-spike recomputation: same gradients, one spike map less saved per spiking layer."""
import copy

import pytest
import torch
from torch import nn

from mmdet_hoyer.models.layers import (HoyerSpike, recompute_spikes, set_regularize, set_warmup,
                                       take_hoyer_terms)
from mmdet_hoyer.models.layers.neuron.backend_compile import unavailable_reason as compile_unavailable_reason
from mmdet_hoyer.models.layers.neuron.backend_cpp import unavailable_reason as cpu_kernel_unavailable_reason
from mmdet_hoyer.models.layers.neuron.recompute import is_recomputing


class SavedBytes:
    """Outer saved-tensor hooks: bytes of distinct storages saved (as the benchmark meters)."""

    def __init__(self):
        self.seen, self.bytes, self.unpacked = set(), 0, 0

    def pack(self, t):
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key not in self.seen:
            self.seen.add(key)
            self.bytes += t.untyped_storage().nbytes()
        return ('packed', t)

    def unpack(self, packed):
        self.unpacked += 1
        return packed[1]

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack)


class Net(nn.Module):
    """conv → BN → HoyerSpike → ×w₁ → conv → BN → HoyerSpike → ×w₂: each spike map is saved in
    its own dtype by its consumer, a product with a per-channel weight."""

    def __init__(self, mode='layer', c=6, impl='torch'):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.act1 = HoyerSpike(mode=mode, impl=impl)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.act2 = HoyerSpike(mode=mode, impl=impl)
        self.w1 = nn.Parameter(torch.randn(1, c, 1, 1))
        self.w2 = nn.Parameter(torch.randn(1, c, 1, 1))
        set_regularize(self, True)

    def forward(self, x, dtype=torch.float32):
        o1 = self.act1(self.bn1(self.conv1(x)).to(dtype))
        o2 = self.act2(self.bn2(self.conv2((o1 * self.w1.to(dtype)).float())).to(dtype))
        reg = sum(take_hoyer_terms(self))
        return (o2 * self.w2.to(dtype)).float().square().sum() + 1e-3 * reg, (o1, o2)


def run(net, x, recompute, dtype=torch.float32):
    net.zero_grad()
    meter = SavedBytes()
    with meter.hooks():
        if recompute:
            with recompute_spikes():
                assert is_recomputing()
                loss, spikes = net(x, dtype)
            assert not is_recomputing()
        else:
            loss, spikes = net(x, dtype)
    loss.backward()  # after the block: the rebuilt maps must not need it
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    return loss.detach(), [s.detach().clone() for s in spikes], grads, meter


@pytest.mark.parametrize('mode', ['layer', 'channel'])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize('impl', [
    'torch',
    pytest.param('cpp', marks=pytest.mark.skipif(
        cpu_kernel_unavailable_reason(torch.device('cpu')) is not None,
        reason='the fused CPU kernels cannot be built here')),
    pytest.param('compile', marks=pytest.mark.skipif(
        compile_unavailable_reason(torch.device('cpu')) is not None,
        reason='torch.compile cannot build CPU kernels here'))])
def test_gradients_bit_equal_and_spike_maps_not_stored(mode, dtype, impl):
    torch.manual_seed(0)
    net = Net(mode, impl=impl)
    x = torch.randn(4, 3, 10, 10)
    twin = copy.deepcopy(net)
    loss0, spikes0, grads0, meter0 = run(net, x, False, dtype)
    loss1, spikes1, grads1, meter1 = run(twin, x, True, dtype)
    assert torch.equal(loss0, loss1)
    for s0, s1 in zip(spikes0, spikes1):
        assert s0.dtype == dtype and torch.equal(s0, s1)
        assert 0 < s0.float().mean() < 1  # both values occur
    for name in grads0:
        assert torch.equal(grads0[name], grads1[name]), name
    # the two spike maps (one per spiking layer) are no longer saved; u is, through the outer
    # hooks, once (shared with the neuron's own saved u)
    spike_bytes = sum(s.numel() * s.element_size() for s in spikes0)
    assert meter0.bytes - meter1.bytes == spike_bytes
    assert meter1.unpacked >= meter0.unpacked > 0  # the outer hooks still unpack everything


def test_rebuilt_map_equals_forward_spikes_at_the_threshold_and_beyond_the_bounds():
    # E = Σc²/Σc = 0.75 exactly: every unit at u = 0.75 fires on the tie; ±inf and values
    # beyond the surrogate window are bounded in the saved u without changing a spike
    z = torch.tensor([0.75] * 6 + [0.0, -1.0, -float('inf')] * 2).reshape(1, 12, 1, 1)
    neuron = HoyerSpike(momentum=1.0)
    w = torch.ones(1, 12, 1, 1, requires_grad=True)
    with recompute_spikes():
        o = neuron(z.clone().requires_grad_())
        y = o * w  # saves o for w's gradient
    assert neuron.running_extremum.item() == 0.75
    assert o.flatten().tolist() == [1.0] * 6 + [0.0] * 6
    y.sum().backward()
    assert torch.equal(w.grad, o.detach())  # ∂(o·w)/∂w = o, from the rebuilt map
    z2 = torch.tensor([0.5, 0.5, 3.0, float('inf'), -2.0, 0.0]).reshape(1, 6, 1, 1)
    neuron2 = HoyerSpike(surrogate_upper=2.0)
    w2 = torch.ones(1, 6, 1, 1, requires_grad=True)
    with recompute_spikes():
        o2 = neuron2(z2.clone().requires_grad_())
        (o2 * w2).sum().backward()
    assert torch.equal(w2.grad, o2.detach())
    assert o2.flatten().tolist() == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]


def test_only_unchanged_returned_spike_maps_are_replaced():
    torch.manual_seed(1)
    z = torch.randn(2, 4, 5, 5, requires_grad=True)
    w = torch.randn(1, 4, 1, 1, requires_grad=True)

    def saved_bytes(make_operand, neuron):
        meter = SavedBytes()
        with meter.hooks(), recompute_spikes():
            operand = make_operand(neuron(z))
            y = operand * w[:, :operand.shape[1]]
        y.sum().backward()
        return meter.bytes

    neuron = HoyerSpike()
    full = z.numel() * 4
    base = saved_bytes(lambda o: o.clone(), neuron)  # a copy: saved as is
    assert saved_bytes(lambda o: o, neuron) == base - full  # the map itself: replaced
    assert saved_bytes(lambda o: o[:, :2], neuron) == base  # a view: kept (its whole storage)
    assert saved_bytes(lambda o: o.mul_(1.0), neuron) == base  # modified in place: kept
    set_warmup(neuron, 0.5)  # the warm-up's mixed output is not a spike map
    mixed = saved_bytes(lambda o: o, neuron)
    assert mixed > base - full


def test_eval_and_no_grad_are_untouched():
    neuron = HoyerSpike().eval()
    z = torch.randn(2, 3, 4, 4)
    with recompute_spikes():
        assert torch.equal(neuron(z), (z >= 1.0).float())
    neuron.train()
    with torch.no_grad(), recompute_spikes():
        o = neuron(z)
    assert set(o.unique().tolist()) <= {0.0, 1.0}
