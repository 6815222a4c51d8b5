"""The neuron's training step in eager ATen ops (``HoyerSpike(impl='torch')``), the readable
reference the other backends are tested against (:mod:`.backends`)."""
from typing import Tuple

import torch
from torch import Tensor

from .functional import batch_extremum, channel_view, reduce_dims, spike_map
from .step import TrainArgs, moments_step
from .surrogate import window_grad


class _HoyerNeuronTrain(torch.autograd.Function):
    """Training forward of the neuron in one pass: moments, extremum, spikes; one backward.

    Saves only ``u = z/|θ|`` (float32). Backward combines the spike surrogate and, when the
    moments' gradients are needed (regularizer), ``∂s1/∂u = 1``, ``∂s2/∂u = 2u`` inside (0, 1).
    """

    @staticmethod
    def forward(ctx, z: Tensor, theta_abs: Tensor, a: TrainArgs):
        dims = reduce_dims(z, a.per_channel)
        t = theta_abs.detach().float()
        u = z.detach().float() / t
        # saturated values (u ≥ 1) add 1 to both sums: their count n removes them from E
        n = (u >= 1.0).sum(dims, dtype=torch.float32) if a.exclude_saturated else None
        c = u.clamp(0.0, 1.0)
        s1 = c.sum(dims)
        s2 = torch.vdot(c.reshape(-1), c.reshape(-1)) if not dims or len(dims) == c.dim() \
            else c.square_().sum(dims)
        moments = (s1, s2) if n is None else (s1 - n, s2 - n)
        e, e_view = batch_extremum(moments, a.fallback, a.sync, z.dim())
        # fresh CPU allocations of activation size cost more than the arithmetic: write the
        # spikes into the clamp buffer (no longer needed) when the dtypes agree
        spikes = torch.ge(u, e_view, out=c) if z.dtype == torch.float32 and c.shape == z.shape \
            else spike_map(u, e_view, z.dtype)
        u = a.surrogate.bound_(u)  # the bounds keep E's side of every u
        a.keep_for_backward(ctx, u, t, e, z.dtype, spikes, e_view)
        return spikes, e, s1, s2

    @staticmethod
    def backward(ctx, grad_o, _grad_e, g1, g2):
        u, t = ctx.saved_tensors
        grad_u = ctx.surrogate.grad(grad_o, u)
        grad_t = None
        need_t = ctx.needs_input_grad[1]
        has_reg = g1 is not None or g2 is not None
        if need_t and not (has_reg and ctx.reg_theta_grad):
            grad_t = -torch.vdot(grad_u.reshape(-1), u.reshape(-1))
        if has_reg:
            # ∂s1/∂u = 1 and ∂s2/∂u = 2u inside the clip range (0, 1), 0 outside
            ndim = u.dim()
            g1 = channel_view(g1, ndim) if g1 is not None else torch.zeros((), device=u.device)
            g2 = channel_view(g2, ndim) if g2 is not None else torch.zeros((), device=u.device)
            reg = torch.mul(u, 2.0 * g2.float()).add_(g1.float())
            grad_u.add_(window_grad(reg, u, 0.0, 1.0, right_closed=False, out=reg))
            if need_t and ctx.reg_theta_grad:  # one reduction for both terms
                grad_t = -torch.vdot(grad_u.reshape(-1), u.reshape(-1))
        grad_z = grad_u.div_(t).to(ctx.z_dtype) if ctx.needs_input_grad[0] else None
        if grad_t is not None:
            grad_t = (grad_t / t).reshape(t.shape)
        return grad_z, grad_t, None


def hoyer_neuron_train(*args, **kwargs) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The neuron's training step (arguments: :class:`~.step.TrainArgs`), fused: equal to
    composing the readable functions of :mod:`.functional`.

    ``s1, s2 = clipped_moments(z, |θ|)``, ``E = hoyer_extremum(s1, s2, fallback)`` and
    ``o = spike(z, |θ|, E, surrogate)``, computed with one clamp and one saved tensor.

    Returns:
        ``(o, E, s1, s2)``. ``o`` carries the surrogate gradient; ``s1``/``s2`` carry the
        moments' gradient (to feed :func:`hoyer_square`); with ``reg_theta_grad=False`` the
        moments' gradient reaches ``z`` but not ``θ`` (regularizing ``clamp(z, 0, |θ|.detach())``).
        With ``sync=True`` (distributed training) the two moments are summed over all processes
        before ``E`` is formed, so every process thresholds with the extremum of the global
        batch (as one process with the whole batch would) and updates an identical running
        estimate; the returned ``s1``/``s2`` (for the regularizer) stay local.
        With ``exclude_saturated=True`` the extremum leaves out the saturated values
        (``E = (s2 − n)/(s1 − n)``, :func:`saturated_count`, the authors' detection code); the
        returned ``s1``/``s2`` and so the regularizer keep them.
        ``on_spikes(o, u, E)``, when given, is called once with the spikes, the saved ``u`` (its
        float32 potential, bounded to a range that keeps ``o = 1[u ≥ E]``) and ``E`` broadcast
        to ``u`` (:func:`~.recompute.register_spikes`).
    """
    a = TrainArgs(*args, **kwargs).checked('torch')
    return _HoyerNeuronTrain.apply(a.z, a.theta_abs, a)


#: the eager backend under the common contract (:mod:`.step`)
step = moments_step(hoyer_neuron_train)
