"""The contract every training-step backend of the neuron fulfils (table: :mod:`.backends`).

A backend is a function ``step(z, clip, fallback, *, per_channel, surrogate, with_hoyer,
reg_theta_grad, sync, exclude_saturated, on_spikes) -> StepResult`` that computes, for the
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
from typing import NamedTuple, Optional

from torch import Tensor

from .functional import reduce_dims


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
