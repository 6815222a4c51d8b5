"""The eval neuron folded into one compare: same spikes as HoyerSpike's eval, bit for bit."""
import pytest
import torch

from mmdet_hoyer.models.layers import FoldedSpike, HoyerSpike, folded_firing_threshold


def neighbours(t: torch.Tensor, k: int = 3) -> torch.Tensor:
    """``t`` and the ``k`` float32 values on either side of it."""
    out, lo, hi = [t], t, t
    for _ in range(k):
        lo = torch.nextafter(lo, torch.tensor(-float('inf')))
        hi = torch.nextafter(hi, torch.tensor(float('inf')))
        out += [lo, hi]
    return torch.stack(out)


def test_folded_firing_threshold_is_the_exact_float32_boundary():
    g = torch.Generator().manual_seed(0)
    theta = torch.rand(500, generator=g) * 4 + 1e-3
    extremum = torch.rand(500, generator=g).clamp_min(1e-6)
    for t, e in zip(theta, extremum):
        thr = folded_firing_threshold(t, e)
        z = neighbours(thr)
        # every float around T: 1[z >= T] equals the eval neuron's 1[fl(z/|θ|) >= E]
        assert torch.equal(z >= thr, z / t >= e)
        # T is the smallest such float: the one below does not fire
        assert not bool(torch.nextafter(thr, torch.tensor(-1.0)) / t >= e)
        # and it is within a few floats of the float64 product |θ|·E
        assert abs(float(thr) - float(t.double() * e.double())) <= 4 * float(
            torch.finfo(torch.float32).eps) * float(thr)


def test_folded_firing_threshold_per_channel_and_shapes():
    theta = torch.tensor(0.7)
    e = torch.tensor([0.1, 0.5, 1.0])
    thr = folded_firing_threshold(theta, e)
    assert thr.shape == (3, ) and thr.dtype == torch.float32
    assert folded_firing_threshold(theta, torch.tensor(0.3)).shape == ()
    for c in range(3):
        z = neighbours(thr[c])
        assert torch.equal(z >= thr[c], z / theta >= e[c])


@pytest.mark.parametrize('mode', ['layer', 'channel'])
def test_folded_spike_equals_the_eval_neuron(mode):
    torch.manual_seed(0)
    neuron = HoyerSpike(mode=mode)
    with torch.no_grad():
        neuron.threshold.fill_(-0.83)  # the clip threshold θ: |θ| is used
    for _ in range(3):  # train: running extremum moves away from 1
        neuron(torch.randn(4, 5, 6, 6))
    neuron.eval()
    folded = FoldedSpike.from_neuron(neuron)
    assert folded.firing_threshold.numel() == (5 if mode == 'channel' else 1)
    z = torch.randn(8, 5, 7, 7)
    # plant values exactly at, and one float around, each channel's threshold
    thr = folded.firing_threshold.expand(5)
    for c in range(5):
        z[0, c, 0, :7] = neighbours(thr[c]).reshape(-1)
    out = folded(z)
    assert out.dtype == z.dtype and set(out.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(out, neuron(z))
    assert torch.equal(folded(z.double()), neuron(z).double())  # the cast follows z


def test_folded_spike_of_an_untrained_channel_neuron_uses_theta():
    neuron = HoyerSpike(mode='channel', init_threshold=0.5).eval()  # running estimate unset
    folded = FoldedSpike.from_neuron(neuron)
    z = torch.tensor([[[[0.49]], [[0.5]]]])
    assert torch.equal(folded(z), neuron(z))
    assert folded(z).flatten().tolist() == [0.0, 1.0]
