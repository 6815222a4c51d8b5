"""The neuron's training step as two ``torch.compile``-d kernels (``HoyerSpike(impl='compile')``).

The eager step (:func:`~.backend_torch.hoyer_neuron_train`) runs six element-wise passes
forward (``u``, clamp, two sums, the spike, the bounds) and about eight backward (window,
scale, regularizer term, sums, division), each a separate ATen kernel; the neuron then costs
several times a ReLU. Here the same maths is written once as two pure functions that
``torch.compile`` fuses into one loop each (Inductor: C++/OpenMP on the CPU, Triton on CUDA):

* :func:`forward_pass` reads ``z`` once and writes the bounded ``u = z/|θ|`` (the value the
  backward needs) while reducing ``s1 = Σc``, ``s2 = Σc²`` (and the saturated count);
* the spikes ``1[u ≥ E]`` are one ATen compare after ``E`` is known (and after the moments'
  all-reduce in distributed training);
* :func:`backward_pass` reads ``∂L/∂o`` and ``u`` once and writes ``∂L/∂z``, reducing θ's
  gradient, with the box-car surrogate window and the regularizer's ``∂s1/∂u``/``∂s2/∂u``.

``u`` is the same float32 division as eager (bit-equal), so the spikes are the eager neuron's
rule on the same ``u``; the sums reduce in another order (float32 rounding), the gradients are
the same expressions (tested against the eager step and the float64 reference). Compilation
happens once per dtype, mode and surrogate (shapes are dynamic) and is cached on disk by
PyTorch.
"""
import functools
import importlib.util
import shutil
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from .functional import batch_extremum, channel_view, spike_map
from .step import TrainArgs, moments_step


def forward_pass(z: Tensor, t: Tensor, bounds: Tuple[float, float], per_channel: bool,
                 exclude_saturated: bool) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(u, m1, m2, s1, s2)``: ``u = clamp(z/t, *bounds)`` (float32), the moments
    ``s1 = Σc``, ``s2 = Σc²`` of ``c = clamp(u, 0, 1)`` (the regularizer's) and the extremum's
    moments ``m1``, ``m2``: ``s1``, ``s2`` less the saturated count when ``exclude_saturated``
    (the authors' detection code; :func:`~.functional.saturated_count`), else the same."""
    dims = [0] + list(range(2, z.dim())) if per_channel else list(range(z.dim()))
    u = (z.float() / t).clamp(bounds[0], bounds[1])
    c = u.clamp(0.0, 1.0)
    s1 = c.sum(dims)
    s2 = (c * c).sum(dims)
    if exclude_saturated:
        n = (u >= 1.0).to(torch.float32).sum(dims)
        return u, s1 - n, s2 - n, s1, s2
    return u, s1, s2, s1, s2


def backward_pass(grad_o: Tensor, u: Tensor, t: Tensor, g1: Tensor, g2: Tensor,
                  surrogate: Tuple[float, float, float], has_reg: bool,
                  reg_theta_grad: bool) -> Tuple[Tensor, Tensor]:
    """``(∂L/∂z, ∂L/∂|θ|)`` of the neuron: the surrogate ``scale·1[lower < u ≤ upper]·∂L/∂o``
    plus, with the regularizer, ``(g1 + 2·g2·u)·1[0 < u < 1]`` (``g1``/``g2``: the moments'
    gradients, broadcast to ``u``), chained through ``u = z/|θ|``."""
    scale, lower, upper = surrogate
    g = grad_o
    grad_u = torch.where((u > lower) & (u <= upper), g * scale, torch.zeros_like(g))
    if has_reg:
        reg = torch.where((u > 0.0) & (u < 1.0), g1 + 2.0 * g2 * u, torch.zeros_like(g))
        theta_part = grad_u + reg if reg_theta_grad else grad_u
        grad_t = -(theta_part * u).sum() / t
        grad_u = grad_u + reg
    else:
        grad_t = -(grad_u * u).sum() / t
    return grad_u / t, grad_t


#: the passes are specialised on mode, saturation, surrogate and rank (each a recompile of the
#: same code object): more variants than dynamo's default limit of 8 in one process
RECOMPILE_LIMIT = 64


@functools.lru_cache(maxsize=None)
def _compiled(fn: Callable) -> Callable:
    compiled = torch.compile(fn, dynamic=True, fullgraph=True)

    @functools.wraps(fn)
    def run(*args):
        with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT,
                                        accumulated_recompile_limit=16 * RECOMPILE_LIMIT):
            return compiled(*args)

    return run


def unavailable_reason(device: torch.device) -> Optional[str]:
    """Why ``torch.compile`` cannot build the kernels for ``device`` here, or ``None``."""
    return _unavailable_reason(device.type)


@functools.lru_cache(maxsize=None)
def _unavailable_reason(device_type: str) -> Optional[str]:
    if device_type == 'cuda':
        if importlib.util.find_spec('triton') is None:
            return 'torch.compile needs Triton for CUDA tensors and it is not installed'
        return None
    if device_type == 'cpu':
        from torch._inductor import config as inductor_config
        cxx = inductor_config.cpp.cxx[-1] if inductor_config.cpp.cxx else 'g++'
        if shutil.which(cxx or 'g++') is None:
            return f'torch.compile needs a C++ compiler ({cxx or "g++"}) for CPU tensors'
        return None
    return f'torch.compile kernels are not supported on {device_type} tensors'


class _HoyerNeuronTrainCompiled(torch.autograd.Function):
    """``_HoyerNeuronTrain`` (backend_torch.py) with the two passes compiled."""

    @staticmethod
    def forward(ctx, z: Tensor, theta_abs: Tensor, a: TrainArgs):
        t = theta_abs.detach().float()
        bounds = a.surrogate.saved_bounds()  # as the eager neuron: same spikes
        # 16-bit inputs are widened here, so each variant compiles once for every dtype
        u, m1, m2, s1, s2 = _compiled(forward_pass)(z.detach().float(), t, bounds, a.per_channel,
                                                    a.exclude_saturated)
        e, e_view = batch_extremum((m1, m2), a.fallback, a.sync, z.dim())
        spikes = spike_map(u, e_view, z.dtype)
        a.keep_for_backward(ctx, u, t, e, z.dtype, spikes, e_view)
        return spikes, e, s1, s2

    @staticmethod
    def backward(ctx, grad_o, _grad_e, g1, g2):
        u, t = ctx.saved_tensors
        has_reg = g1 is not None or g2 is not None
        zero = torch.zeros((), device=u.device)
        g1 = channel_view(g1, u.dim()).float() if g1 is not None else zero
        g2 = channel_view(g2, u.dim()).float() if g2 is not None else zero
        if grad_o is None:
            grad_o = torch.zeros_like(u)
        grad_z, grad_t = _compiled(backward_pass)(
            grad_o.float(), u, t, g1, g2, tuple(ctx.surrogate), has_reg, ctx.reg_theta_grad)
        return (grad_z.to(ctx.z_dtype) if ctx.needs_input_grad[0] else None,
                grad_t.reshape(t.shape) if ctx.needs_input_grad[1] else None, None)


def hoyer_neuron_train_compiled(*args, **kwargs) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`~.backend_torch.hoyer_neuron_train` (same arguments, :class:`~.step.TrainArgs`,
    and results) with the forward and backward passes compiled into one fused kernel each."""
    a = TrainArgs(*args, **kwargs).checked('compile')
    return _HoyerNeuronTrainCompiled.apply(a.z, a.theta_abs, a)


#: the compiled backend under the common contract (:mod:`.step`)
step = moments_step(hoyer_neuron_train_compiled)
