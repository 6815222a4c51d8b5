"""MultiStepLIF: the recurrence against a hand-run example, BPTT gradients, bad arguments."""
import pytest
import torch

from mmdet_hoyer.models.layers import MultiStepLIF


def test_recurrence_matches_hand_computation():
    # T=3, N=1, one neuron, z = 0.6 every step, λ = 0.5, V_th = 1:
    # v1 = 0.6 (no spike); v2 = 0.3 + 0.6 = 0.9 (no spike); v3 = 0.45 + 0.6 = 1.05 → spike
    lif = MultiStepLIF(time_steps=3, decay=0.5)
    out = lif(torch.full((3, 1), 0.6))
    assert out.flatten().tolist() == [0.0, 0.0, 1.0]
    # after a spike the membrane resets: z = 1.2 each step → spikes every step
    assert lif(torch.full((3, 1), 1.2)).flatten().tolist() == [1.0, 1.0, 1.0]


def test_gradient_flows_back_through_time():
    lif = MultiStepLIF(time_steps=2, decay=0.5, surrogate_scale=1.0, surrogate_width=1.0)
    z = torch.tensor([[0.5], [0.2]], requires_grad=True)  # v1 = 0.5, v2 = 0.45
    lif(z)[1].sum().backward()
    # ∂s2/∂z1 = surrogate(v2 − 1)·λ = 0.5 ; ∂s2/∂z2 = 1
    assert z.grad.flatten().tolist() == pytest.approx([0.5, 1.0])


def test_bad_arguments_and_batch():
    with pytest.raises(ValueError, match='time_steps'):
        MultiStepLIF(time_steps=0)
    with pytest.raises(ValueError, match='decay'):
        MultiStepLIF(decay=1.5)
    with pytest.raises(ValueError, match='multiple of time_steps'):
        MultiStepLIF(time_steps=4)(torch.zeros(6, 2))
