"""Pure tensor functions of the one-time-step Hoyer spiking neuron.

Notation follows Datta, Liu & Beerel, *Hoyer regularizer is all you need for ultra
low-latency spiking neural networks* (arXiv 2212.10170):

* ``z``  - pre-activation (the BatchNorm output);
* ``θ``  - trainable clipping threshold (one scalar per layer); ``u = z / |θ|``;
* ``c = clamp(u, 0, 1)`` - the clipped membrane potential;
* ``E = Σc² / Σ|c|`` - the Hoyer extremum of ``c``, the (down-scaled) firing threshold on ``u``;
* ``o = 1[u ≥ E]`` - the binary spike, with a straight-through box-car surrogate gradient;
* ``H(c) = (Σ|c|)² / Σc²`` - the Hoyer-square regularizer.

Both statistics share two sums, ``s1 = Σc`` and ``s2 = Σc²`` (``c ≥ 0`` so ``|c| = c``):
``E = s2 / s1`` and ``H = s1² / s2``. The small functions below (:func:`clipped_moments`,
:func:`hoyer_extremum`, :func:`hoyer_square`, :func:`spike`) are the readable definitions; the
training-step backends (:mod:`.backends`: eager, fused C++ CPU kernels, ``torch.compile``) fuse
them and are tested to equal their composition.

Three thresholds, three names (in code, C++ kernels and docs alike):

* ``θ``, the **clip threshold** (the trainable parameter ``HoyerSpike.threshold``, a name kept
  for checkpoints; arguments say ``theta_abs`` or ``clip`` for ``|θ|``): the scale of
  ``u = z/|θ|`` and the clip ``c = clamp(u, 0, 1)``;
* ``E``, the **extremum** (batch value while training, ``running_extremum`` in eval; arguments
  say ``extremum``): what ``u`` is compared with, ``o = 1[u ≥ E]``;
* ``T``, the **firing threshold** on ``z`` (:func:`folded_firing_threshold`: the float32
  constant with ``1[z ≥ T] = 1[z/|θ| ≥ E]``, ``T ≈ |θ|·E``; what exported graphs hold).

The surrogate gradient is one object, :class:`~.surrogate.BoxcarSurrogate`.

Everything that is a statistic (``s1``, ``s2``, ``E``, ``H``) is computed in float32 whatever
the input dtype, so mixed precision changes neither the thresholds nor the regularizer.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from .surrogate import PAPER_SURROGATE, BoxcarSurrogate

#: Smallest value the extremum may take: a spike needs ``u > 0`` even when all ``c`` underflow.
EXTREMUM_EPS = torch.finfo(torch.float32).tiny


def channel_view(t: Tensor, ndim: int) -> Tensor:
    """Reshape a per-channel vector ``(C,)`` to broadcast over ``(N, C, *spatial)``.

    A scalar (0-d or 1-element) tensor is returned unchanged.
    """
    if t.numel() == 1 or ndim < 2:
        return t.reshape(()) if t.numel() == 1 else t
    return t.reshape((1, -1) + (1, ) * (ndim - 2))


def reduce_dims(x: Tensor, per_channel: bool) -> Tuple[int, ...]:
    """Dimensions summed for a per-layer (all) or per-channel (all but dim 1) statistic."""
    if per_channel:
        if x.dim() < 2:
            raise ValueError(f'per-channel Hoyer statistics need an input with a channel '
                             f'dimension (N, C, ...), got shape {tuple(x.shape)}')
        return (0, ) + tuple(range(2, x.dim()))
    return tuple(range(x.dim()))


def clipped_moments(z: Tensor, theta_abs: Tensor,
                    per_channel: bool = False) -> Tuple[Tensor, Tensor]:
    """First and second moments of the clipped membrane potential ``c = clamp(z/|θ|, 0, 1)``.

    Args:
        z: pre-activation, any shape; ``(N, C, ...)`` when ``per_channel``.
        theta_abs: ``|θ|``, a positive scalar tensor (detach it to stop gradients to θ).
        per_channel: sum over all dims but the channel dim (1) instead of all dims.

    Returns:
        ``(s1, s2)``: float32 ``Σc`` and ``Σc²``, scalars or ``(C,)`` vectors. Gradients flow to
        ``z`` and ``theta_abs`` (zero where ``c`` is clipped) through plain autograd: this is the
        readable form that :func:`hoyer_neuron_train` fuses (and is tested against).
    """
    dims = reduce_dims(z, per_channel)
    c = (z.float() / theta_abs.float()).clamp(0.0, 1.0)
    return c.sum(dims), c.square().sum(dims)


def hoyer_extremum(s1: Tensor, s2: Tensor, fallback: Tensor) -> Tensor:
    """Hoyer extremum ``E = Σc² / Σ|c|`` of the clipped potential (paper, threshold equation).

    ``c ∈ [0, 1]`` so ``E ∈ (0, 1]``. A silent layer (or channel) has ``s1 = 0`` and no defined
    extremum (the authors' code divides 0/0 there); it gets ``fallback`` instead, the running
    estimate, which leaves both the spikes (none fire: all ``u ≤ 0``) and the running estimate
    unchanged. The result is clamped to ``≥ EXTREMUM_EPS`` so ``u = 0`` never fires, even when
    ``c²`` underflows. No gradient flows through ``E``.
    """
    s1 = s1.detach()
    s2 = s2.detach()
    fallback = fallback.detach().to(s1.dtype).expand_as(s1)
    e = torch.where(s1 > 0, s2 / s1.clamp_min(EXTREMUM_EPS), fallback)
    return e.clamp(EXTREMUM_EPS, 1.0)


def saturated_count(z: Tensor, theta_abs: Tensor, per_channel: bool = False) -> Tensor:
    """``n = Σ 1[z/|θ| ≥ 1]``, the number of saturated values of ``c = clamp(z/|θ|, 0, 1)``
    (float32, scalar or per channel; no gradient).

    The authors' detection code zeroes saturated values before forming the extremum. Each
    saturated value adds exactly 1 to both ``Σc`` and ``Σc²``, so that extremum is
    ``E' = (s2 − n) / (s1 − n)``: pass ``(s1 − n, s2 − n)`` to :func:`hoyer_extremum`.
    """
    u = z.detach().float() / theta_abs.detach().float()
    return (u >= 1.0).sum(reduce_dims(z, per_channel), dtype=torch.float32)


def hoyer_square(s1: Tensor, s2: Tensor) -> Tensor:
    """Hoyer-square regularizer ``H(c) = (Σ|c|)² / Σc²`` from the clipped moments.

    ``s1``/``s2`` may be per-channel; they are summed to the whole tensor first. ``H`` lies in
    ``[1, numel]`` and is scale-invariant. A silent tensor (``s2 = 0``) is defined as ``H = 0``
    with zero gradient, never NaN.
    """
    s1 = s1.sum()
    s2 = s2.sum()
    safe = s2.clamp_min(EXTREMUM_EPS)
    return torch.where(s2 > 0, s1.square() / safe, torch.zeros_like(s1))


def update_running(running: Tensor, value: Tensor, momentum: float) -> None:
    """In place: ``running ← (1 - m)·running + m·value`` (BatchNorm-style running estimate)."""
    with torch.no_grad():
        running.mul_(1.0 - momentum).add_(value.detach().to(running.dtype), alpha=momentum)


def spike_map(u: Tensor, extremum: Tensor, dtype: torch.dtype) -> Tensor:
    """``1[u ≥ E]`` as a ``dtype`` tensor of ``u``'s shape (``extremum`` broadcast to ``u``)."""
    return torch.ge(u, extremum, out=torch.empty(u.shape, dtype=dtype, device=u.device))


class _HoyerSpike(torch.autograd.Function):
    """``o = 1[z/|θ| ≥ E]`` with the box-car surrogate gradient (:class:`BoxcarSurrogate`)."""

    @staticmethod
    def forward(ctx, z: Tensor, theta_abs: Tensor, extremum: Tensor,
                surrogate: BoxcarSurrogate) -> Tensor:
        u = z.float() / theta_abs.float()  # float32 as in the training step
        ctx.save_for_backward(z, theta_abs)
        ctx.surrogate = surrogate
        return spike_map(u, channel_view(extremum.float(), z.dim()), z.dtype)

    @staticmethod
    def backward(ctx, grad_o: Tensor):
        z, theta_abs = ctx.saved_tensors
        t = theta_abs.float()
        u = ctx.surrogate.bound_(z.float() / t)
        grad_u = ctx.surrogate.grad(grad_o, u)
        grad_t = None
        if ctx.needs_input_grad[1]:
            grad_t = (-torch.vdot(grad_u.reshape(-1), u.reshape(-1)) / t).reshape(
                theta_abs.shape).to(theta_abs.dtype)
        grad_z = grad_u.div_(t).to(z.dtype) if ctx.needs_input_grad[0] else None
        return grad_z, grad_t, None, None


def spike(z: Tensor, theta_abs: Tensor, extremum: Tensor,
          surrogate: BoxcarSurrogate = PAPER_SURROGATE) -> Tensor:
    """Binary spikes ``o = 1[z/|θ| ≥ E]`` in the dtype of ``z`` (values exactly 0 or 1).

    Backward is the straight-through box-car ``surrogate`` (default the paper code's
    ``0.5·1[0 < u ≤ 2]``), chained through ``u = z/|θ|`` to ``z`` (``/|θ|``) and to ``|θ|``
    (``-u/|θ|``); ``E`` gets no gradient.

    Args:
        z: pre-activation ``(N, C, ...)`` or any shape for a scalar ``E``.
        theta_abs: ``|θ| > 0``, scalar tensor.
        extremum: ``E``, scalar or per-channel ``(C,)``.
        surrogate: a :class:`BoxcarSurrogate` (or its ``(scale, lower, upper)`` tuple).
    """
    return _HoyerSpike.apply(z, theta_abs, extremum.detach(), BoxcarSurrogate.of(surrogate))


def batch_extremum(moments: Tuple[Tensor, Tensor], fallback: Tensor, sync: bool,
                   ndim: int) -> Tuple[Tensor, Tensor]:
    """``E = Σc²/Σc`` (Eq. 5) of the batch — of the global batch when ``sync`` (the moments are
    summed over all processes first) — and its view broadcastable against an ``ndim`` input."""
    m1, m2 = moments
    if sync:
        flat = torch.stack([m1.reshape(-1), m2.reshape(-1)])
        torch.distributed.all_reduce(flat)
        m1, m2 = flat[0].reshape(m1.shape), flat[1].reshape(m2.shape)
    e = hoyer_extremum(m1, m2, fallback)
    return e, channel_view(e, ndim)


def check_alpha(alpha: float, owner: str = 'warmup_mix') -> float:
    """The spike warm-up's mix ``α`` as a float, after its one check: a number in [0, 1]."""
    if not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f'{owner}: alpha must be in [0, 1] (a number), got {alpha!r}')
    return float(alpha)


WARMUP_RAMPS = ('surrogate', 'relu')


def warmup_mix(spikes: Tensor, z: Tensor, theta_abs: Tensor, alpha: float,
               ramp: str = 'surrogate', surrogate: BoxcarSurrogate = PAPER_SURROGATE) -> Tensor:
    """The spike warm-up's training forward: ``(1 − α)·o + α·g(u)``, ``u = z/|θ|``.

    ``o`` are the binary spikes (carrying the surrogate gradient). ``ramp`` picks ``g``:

    * ``'surrogate'``: ``g = P``, the surrogate's primitive (:meth:`BoxcarSurrogate.primitive`),
      added without a graph, so the gradient is the paper's surrogate whatever ``α``: a warm-up
      that changes only forward values, from the graded ramp the surrogate describes
      (``α = 1``) to the binary spike (``α = 0``);
    * ``'relu'``: ``g = max(u, 0)`` forward *and* backward (to ``z``, not to ``θ``: pass
      ``|θ|`` detached; the threshold learns through the spikes): a ReLU network annealed into
      the spiking one (``α = 1`` is the ANN twin's activation up to the scale ``1/|θ|``, which
      the next BN removes).

    ``α = 0`` returns ``spikes`` itself.
    """
    alpha = check_alpha(alpha)
    if ramp not in WARMUP_RAMPS:
        raise ValueError(f'warmup_mix: ramp must be one of {WARMUP_RAMPS}, got {ramp!r}')
    if alpha == 0.0:
        return spikes
    if ramp == 'relu':
        graded = (z / theta_abs.to(z.dtype)).clamp_min(0)
        return spikes * (1.0 - alpha) + graded * alpha
    with torch.no_grad():
        u = z.float() / theta_abs.float()
        delta = BoxcarSurrogate.of(surrogate).primitive(u).sub_(spikes).mul_(alpha)
    return spikes + delta.to(spikes.dtype)


def firing_rate(spikes: Tensor, dims: Optional[Sequence[int]] = None) -> Tensor:
    """Fraction of ones in a binary spike tensor (float32)."""
    if dims is None:
        return spikes.float().mean()
    return spikes.float().mean(tuple(dims))


def folded_firing_threshold(theta_abs: Tensor, extremum: Tensor) -> Tensor:
    """The eval neuron's firing threshold on ``z``, folded into one float32 constant (per
    channel in 'channel' mode): the smallest float32 ``T`` with ``fl(T/|θ|) ≥ E``.

    Eval fires ``o = 1[fl(z/|θ|) ≥ E]`` (float32 division, rounded). Rounded division by a
    positive ``|θ|`` is monotone in ``z``, so the set of ``z`` that fire is exactly
    ``{z ≥ T}``: ``1[z ≥ T]`` gives the same spikes bit for bit — one compare instead of a
    division and a compare (exported graphs, :class:`FoldedSpike`). The naive ``|θ|·E`` can be
    one float off in either direction; ``T`` starts there and steps with ``nextafter`` until it
    is the boundary (at most a few steps).
    """
    if theta_abs.numel() != 1:
        raise ValueError('folded_firing_threshold: |θ| must be one number (one θ per layer), got '
                         f'shape {tuple(theta_abs.shape)}')
    t = theta_abs.detach().float().reshape(())
    e = extremum.detach().float().reshape(-1)
    thr = (t.double() * e.double()).float()
    inf = torch.full_like(thr, float('inf'))
    for _ in range(64):  # each pass moves every entry at most one float32 towards the boundary
        fires = thr / t >= e
        below = torch.nextafter(thr, -inf)
        step_down = fires & (below / t >= e)
        step_up = ~fires
        if not (step_down.any() or step_up.any()):
            return thr.reshape(extremum.shape)
        thr = torch.where(step_down, below, torch.where(step_up, torch.nextafter(thr, inf), thr))
    raise RuntimeError('folded_firing_threshold: no float32 boundary found (|θ| or E not finite?): '
                       f'|θ|={theta_abs!r}, E={extremum!r}')
