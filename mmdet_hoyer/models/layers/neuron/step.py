"""The contract every training-step backend of the neuron fulfils (table: :mod:`.backends`).

A backend is a function ``step(z, clip, fallback, *, with_hoyer, **options) -> StepResult``
(``options``: the fields of :class:`TrainArgs` after ``fallback``) that computes, for the
pre-activation ``z`` and the clip threshold ``clip = |θ|``:

* the spikes ``o = 1[z/|θ| ≥ E]`` in ``z``'s dtype, carrying the surrogate gradient
  ``∂o/∂u = scale·1[lower < u ≤ upper]`` (``surrogate``, a :class:`~.surrogate.BoxcarSurrogate`);
* the batch extremum ``E = Σc²/Σc`` of ``c = clamp(z/|θ|, 0, 1)`` (Eq. 5; per layer, or per
  channel with ``per_channel``; ``fallback`` where a layer is silent; without the saturated
  values with ``exclude_saturated``; from the moments summed over processes with ``sync``),
  float32 and without gradient;
* with ``with_hoyer``, the Hoyer-square ``H = (Σc)²/Σc²`` (Eq. 3) with its gradient to ``z``
  and, with ``reg_theta_grad``, to ``θ``.

It calls ``on_spikes(o, u, E_broadcast, [rebuild=...])`` when given (saved-spike recomputation,
:mod:`.recompute`) and leaves the running estimate alone: :class:`~.hoyer_spike.HoyerSpike`
updates it, for every backend, from the returned ``E``.
"""
from typing import Callable, NamedTuple, Optional

import torch

from torch import Tensor

from .functional import hoyer_square, reduce_dims
from .surrogate import PAPER_SURROGATE, BoxcarSurrogate


class TrainArgs(NamedTuple):
    """The arguments of a training step, bound once (``TrainArgs(*args, **kwargs)`` applies
    the defaults); every backend's ``hoyer_neuron_train*`` takes them in this order.

    ``theta_abs`` is ``|θ|``; ``fallback`` the extremum a silent layer keeps (the running
    estimate); ``surrogate`` a :class:`~.surrogate.BoxcarSurrogate`; ``reg_theta_grad=False``
    stops the regularizer's gradient to θ; ``sync`` all-reduces the moments before ``E``;
    ``exclude_saturated`` forms ``E`` without the values ``u ≥ 1``; ``on_spikes`` is called
    with the spikes for saved-spike recomputation (:func:`~.recompute.register_spikes`).
    """
    z: Tensor
    theta_abs: Tensor
    fallback: Tensor
    per_channel: bool = False
    surrogate: BoxcarSurrogate = PAPER_SURROGATE
    reg_theta_grad: bool = True
    sync: bool = False
    exclude_saturated: bool = False
    on_spikes: Optional[Callable[..., None]] = None

    def keep_for_backward(self, ctx, u: Tensor, t: Tensor, e: Tensor, z_dtype: torch.dtype,
                          spikes: Tensor, e_view: Optional[Tensor], **rebuild) -> None:
        """End of a backend's forward: what its backward reads (``u`` in float32 and ``|θ|``
        saved; the surrogate, θ-gradient mode and input dtype on ``ctx``; ``E`` without
        gradient), then ``on_spikes(spikes, u, E_broadcast, **rebuild)`` when given."""
        ctx.save_for_backward(u, t)
        ctx.surrogate = self.surrogate
        ctx.reg_theta_grad = self.reg_theta_grad
        ctx.z_dtype = z_dtype
        ctx.mark_non_differentiable(e)
        if self.on_spikes is not None:
            self.on_spikes(spikes, u, e_view, **rebuild)

    def checked(self, backend: str) -> 'TrainArgs':
        """These arguments after :func:`check_step_args`, the surrogate as its object."""
        check_step_args(backend, self.z, self.per_channel)
        return self._replace(per_channel=bool(self.per_channel),
                             surrogate=BoxcarSurrogate.of(self.surrogate))


class StepResult(NamedTuple):
    """What a training-step backend returns (module docstring)."""
    spikes: Tensor
    extremum: Tensor
    hoyer: Optional[Tensor]


def check_step_args(backend: str, z: Tensor, per_channel: bool) -> None:
    """The argument check every backend shares: ``ValueError`` for an input per-channel
    statistics cannot be formed on (:func:`~.functional.reduce_dims`'s check, the only one), or a
    fused CPU kernel's non-CPU tensor."""
    reduce_dims(z, per_channel)
    if backend == 'cpp' and z.device.type != 'cpu':
        raise ValueError(f'cpp neuron backend: z must be a CPU tensor, got {z.device}')


def moments_step(train: Callable[..., tuple]) -> Callable[..., StepResult]:
    """The common-contract ``step`` of a backend whose ``train(*TrainArgs)`` returns
    ``(o, E, s1, s2)``: ``H = hoyer_square(s1, s2)`` when ``with_hoyer``."""

    def step(z: Tensor, clip: Tensor, fallback: Tensor, *, with_hoyer: bool = False,
             **options) -> StepResult:
        o, e, s1, s2 = train(z, clip, fallback, **options)
        return StepResult(o, e, hoyer_square(s1, s2) if with_hoyer else None)

    step.__doc__ = f'``{train.__name__}`` under the common contract (:mod:`.step`).'
    return step
