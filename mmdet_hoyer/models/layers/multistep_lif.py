"""``MultiStepLIF``: a T-step leaky integrate-and-fire neuron, the multi-step SNN baseline.

Used by tools/analysis_tools/benchmark_train.py to compare the training cost of the paper's
one-time-step neuron with a conventional multi-step SNN of the same network (BPTT through T
steps). Time is folded into the batch, as spikingjelly's multi-step mode does: every conv/BN
processes ``(T·N, C, H, W)`` and this neuron unfolds ``(T, N, ...)`` and runs the recurrence

    v_t = λ·v_{t-1}·(1 − s_{t-1}) + z_t,   s_t = 1[v_t ≥ V_th]       (hard reset to 0)

with the box-car surrogate ``∂s/∂v = scale·1[|v − V_th| ≤ width]`` and gradients through time
(the reset is detached, as is common).
"""
import torch
from torch import Tensor, nn

from mmdet.registry import MODELS


class _Heaviside(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, scale: float, width: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.scale, ctx.width = scale, width
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, = ctx.saved_tensors
        return grad * (x.abs() <= ctx.width).to(grad.dtype) * ctx.scale, None, None


def lif_multistep(z: Tensor, time_steps: int, decay: float = 0.5, v_threshold: float = 1.0,
                  scale: float = 0.5, width: float = 1.0) -> Tensor:
    """Run the LIF recurrence over ``z`` of shape ``(T·N, ...)``; returns spikes, same shape."""
    if z.shape[0] % time_steps:
        raise ValueError(f'MultiStepLIF: batch dimension {z.shape[0]} is not a multiple of '
                         f'time_steps={time_steps} (inputs must be repeated T times)')
    zs = z.reshape(time_steps, -1, *z.shape[1:])
    v = torch.zeros_like(zs[0])
    out = []
    for t in range(time_steps):
        v = v * decay + zs[t]
        s = _Heaviside.apply(v - v_threshold, scale, width)
        out.append(s)
        v = v * (1 - s.detach())
    return torch.stack(out).reshape(z.shape)


@MODELS.register_module()
class MultiStepLIF(nn.Module):
    """Multi-step LIF neuron for ``act_cfg`` (see module docstring).

    Args:
        time_steps: T (≥ 1); the input's batch must be T·N, time-major.
        decay: membrane leak λ in [0, 1] (0.5 = τ 2).
        v_threshold: firing threshold (> 0).
        surrogate_scale, surrogate_width: box-car surrogate height and half-width (> 0).
        inplace: accepted for MMCV's ``ConvModule``; unused.
    """

    def __init__(self, time_steps: int = 4, decay: float = 0.5, v_threshold: float = 1.0,
                 surrogate_scale: float = 0.5, surrogate_width: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(time_steps, int) or time_steps < 1:
            raise ValueError(f'MultiStepLIF: time_steps must be an int >= 1, got {time_steps!r}')
        if not 0 <= decay <= 1:
            raise ValueError(f'MultiStepLIF: decay must be in [0, 1], got {decay!r}')
        if not (v_threshold > 0 and surrogate_scale > 0 and surrogate_width > 0):
            raise ValueError('MultiStepLIF: v_threshold, surrogate_scale and surrogate_width '
                             f'must be > 0, got {v_threshold}, {surrogate_scale}, '
                             f'{surrogate_width}')
        self.time_steps, self.decay, self.v_threshold = time_steps, float(decay), float(v_threshold)
        self.surrogate = (float(surrogate_scale), float(surrogate_width))

    def forward(self, z: Tensor) -> Tensor:
        return lif_multistep(z, self.time_steps, self.decay, self.v_threshold, *self.surrogate)

    def extra_repr(self) -> str:
        return f'time_steps={self.time_steps}, decay={self.decay}, v_threshold={self.v_threshold}'
