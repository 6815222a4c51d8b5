"""The neuron's training step on the fused C++ CPU kernels (``HoyerSpike(impl='cpp')``, and
``impl='auto'`` for CPU tensors).

The eager step (:func:`~.backend_torch.hoyer_neuron_train`) makes about 6 passes over an
activation-sized tensor forward and 7 backward, each a separate ATen kernel; a ReLU makes one
each way. On a memory-bound CPU those passes are the SNN's extra training time
(docs/results/benchmarks.md). Here (``csrc/hoyer_spike_cpu.cpp``, built by :mod:`.cpu_kernels`):

* ``hoyer_forward`` reads ``z`` once, writes the bounded ``u = z/|θ|`` the backward needs and
  reduces ``s1 = Σc``, ``s2 = Σc²`` and the saturated count of ``c = clamp(u, 0, 1)``; then, in
  the same operator call, ``E = s2/s1`` (the fallback where ``s1 = 0``, as
  :func:`~.functional.hoyer_extremum`), the regularizer ``H = (Σc)²/Σc²``, the running
  update, and one pass writing the spikes ``1[u ≥ E]``. In distributed training
  ``hoyer_moments`` returns the moments alone; they are all-reduced and ``E``, ``H`` and the
  spikes are formed by the reference functions, as in the eager step;
* ``hoyer_backward`` reads ``∂L/∂o`` and ``u`` once and writes ``∂L/∂z``, reducing θ's gradient:
  the box-car surrogate ``scale·1[lower < u ≤ upper]``, the Hoyer-square regularizer's
  ``(g1 + 2·g2·u)·1[0 < u < 1]`` (``H``'s own gradient added to ``g1``, ``g2``) and the chain
  through ``u = z/|θ|``.

Two passes forward and one backward. ``u`` is the same float32 division as the eager step and
every element-wise expression the same float32 operations, so the spikes and ``∂L/∂z`` equal the
eager step's for the same ``E``; the sums are accumulated in float64 (more accurate than the
eager float32 reductions), so ``E`` agrees to float32 rounding (tested against the eager step
and the float64 reference).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .cpu_kernels import hoyer_cpu_ops, hoyer_cpu_ops_unavailable_reason
from .functional import (batch_extremum, channel_view, hoyer_square, spike_map,
                         update_running)
from .step import StepResult, TrainArgs


def unavailable_reason(device: torch.device) -> Optional[str]:
    """Why the fused CPU kernels cannot run on ``device`` tensors here, or ``None``."""
    if device.type != 'cpu':
        return f'the fused kernels are CPU kernels; got {device.type} tensors'
    return hoyer_cpu_ops_unavailable_reason()


def _rebuild_spike_map(u: Tensor, extremum: Tensor, dtype: torch.dtype) -> Tensor:
    """``1[u ≥ E]`` in ``dtype`` (the forward's spike pass; bit-equal to
    :func:`~.functional.spike_map`); the eager map for what the kernel does not take."""
    if u.device.type != 'cpu' or u.dtype != torch.float32:
        return spike_map(u, extremum, dtype)
    return hoyer_cpu_ops().hoyer_spike_map.default(u, extremum, dtype)


class _HoyerNeuronTrainCPU(torch.autograd.Function):
    """``_HoyerNeuronTrain`` (backend_torch.py) on the fused CPU kernels, also returning
    ``H = hoyer_square(s1, s2)`` with its gradient folded into this function's backward (no
    separate autograd graph for the regularizer) and, given ``running``, updating the running
    estimate in the same call."""

    @staticmethod
    def forward(ctx, z: Tensor, theta_abs: Tensor, a: TrainArgs, running: Optional[Tensor],
                momentum: float):
        fallback, per_channel, exclude_saturated = a.fallback, a.per_channel, a.exclude_saturated
        t = theta_abs.detach()
        lo, hi = a.surrogate.saved_bounds()
        ops = hoyer_cpu_ops()
        if a.sync:  # the moments are summed over processes before E is formed (as eager)
            u, s1, s2, n = ops.hoyer_moments.default(z.detach(), t, lo, hi, per_channel)
            moments = (s1 - n, s2 - n) if exclude_saturated else (s1, s2)
            e, e_view = batch_extremum(moments, fallback, a.sync, z.dim())
            spikes = spike_map(u, e_view, z.dtype)
            h = hoyer_square(s1, s2)
            sums = torch.stack([s1.sum(), s2.sum()])
            if running is not None:
                update_running(running, e.reshape(running.shape), momentum)
        else:  # one call: u and the moments, E, H, the running update, the spikes
            in_place = running is not None and running.dtype == torch.float32
            spikes, u, e, s1, s2, h, sums = ops.hoyer_forward.default(
                z.detach(), t, fallback.detach(), lo, hi, per_channel, exclude_saturated,
                running if in_place else None, momentum)
            if running is not None and not in_place:  # a buffer of another dtype
                update_running(running, e.reshape(running.shape), momentum)
            e_view = channel_view(e, z.dim()) if a.on_spikes is not None else None
        ctx.sums = sums
        # spike-map recomputation rebuilds with the one-pass kernel
        a.keep_for_backward(ctx, u, t, e, z.dtype, spikes, e_view, rebuild=_rebuild_spike_map)
        return spikes, e, s1, s2, h

    @staticmethod
    def backward(ctx, grad_o, _grad_e, g1, g2, grad_h):
        u, t = ctx.saved_tensors
        scale, lower, upper = ctx.surrogate
        # g1, g2: ∂L/∂s1, ∂L/∂s2; grad_h: ∂L/∂H (the kernel adds ∂H/∂s1, ∂H/∂s2 from the sums)
        grad_z, grad_t = hoyer_cpu_ops().hoyer_backward.default(
            grad_o, u, t, scale, lower, upper, g1, g2, grad_h,
            ctx.sums if grad_h is not None else None, ctx.reg_theta_grad,
            ctx.needs_input_grad[1])
        return (grad_z if ctx.needs_input_grad[0] else None,
                grad_t if ctx.needs_input_grad[1] else None, None, None, None)


def hoyer_neuron_train_cpu(*args, with_hoyer: bool = False, running: Optional[Tensor] = None,
                           momentum: float = 0.1, **kwargs) -> Tuple[Tensor, ...]:
    """:func:`~.backend_torch.hoyer_neuron_train` (same arguments, :class:`~.step.TrainArgs`,
    and results) on the fused CPU kernels: two passes over the activation forward, one backward.

    With ``with_hoyer=True`` it returns ``(o, E, s1, s2, H)``, ``H = hoyer_square(s1, s2)``
    (the layer's regularizer term, Eq. 3), whose gradient this function's backward adds to the
    moments' — the value and gradient of :func:`~.functional.hoyer_square` on the
    returned moments, without its small autograd graph per layer and step. With ``running``
    (1 or C values; float32 in the operator call, another dtype after it) the running estimate
    is updated in place,
    ``running ← (1 − momentum)·running + momentum·E`` (:func:`~.functional.update_running`;
    ``fallback`` may be a view of it: ``E`` is formed first). ``on_spikes`` is called as
    ``on_spikes(o, u, E, rebuild=f)`` (:func:`~.recompute.register_spikes`), ``f`` the
    kernel's one-pass spike map.
    """
    a = TrainArgs(*args, **kwargs).checked('cpp')
    out = _HoyerNeuronTrainCPU.apply(a.z, a.theta_abs, a, running, float(momentum))
    return out if with_hoyer else out[:4]


def step(z: Tensor, clip: Tensor, fallback: Tensor, *, with_hoyer: bool = False,
         **options) -> StepResult:
    """The fused CPU backend under the common contract (:mod:`.step`): ``H`` comes from the
    same operator call, its gradient folded into the one backward pass."""
    o, e, _, _, h = hoyer_neuron_train_cpu(z, clip, fallback, with_hoyer=True, **options)
    return StepResult(o, e, h if with_hoyer else None)
