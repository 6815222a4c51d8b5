"""Network-wide switches of the spiking neurons, as spikingjelly's ``functional.set_*``.

The training hooks and the tools turn behaviour on and off for every :class:`HoyerSpike` of a
model through these functions, never by assigning neuron attributes themselves:
:func:`set_regularize` (the regularizer hook), :func:`take_hoyer_terms` (its loss),
:func:`set_record_stats` (its logging), :func:`set_warmup` (the spike warm-up),
:func:`set_impl` (benchmarks). Each takes a model or the ``(name, neuron)`` pairs of
:func:`hoyer_layers`.
"""
from typing import Iterable, List, Optional, Tuple, Union

from torch import Tensor, nn

from .hoyer_spike import HoyerSpike

Layers = Union[nn.Module, Iterable[Tuple[str, HoyerSpike]]]


def hoyer_layers(model: nn.Module) -> List[Tuple[str, HoyerSpike]]:
    """``(name, neuron)`` of every :class:`HoyerSpike` of ``model``, in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, HoyerSpike)]


def _neurons(layers: Layers) -> List[HoyerSpike]:
    if isinstance(layers, nn.Module):
        return [m for _, m in hoyer_layers(layers)]
    return [m for _, m in layers]


def set_regularize(layers: Layers, enabled: bool, detach_threshold: bool = False) -> None:
    """Make every neuron keep its Hoyer-square ``H`` (with its graph) after each training
    forward, for :func:`take_hoyer_terms`; ``detach_threshold`` stops ``H``'s gradient to θ
    (the authors' later code). Disabling also drops a term not yet taken."""
    for m in _neurons(layers):
        m.regularize, m.detach_threshold = bool(enabled), bool(detach_threshold)
        if not enabled:
            m.hoyer_loss = None


def take_hoyer_terms(layers: Layers) -> List[Tensor]:
    """The ``H`` of every neuron that ran a regularized training forward since the last call
    (Eq. 3, one per layer), handed over and cleared: the graph lives in what is returned."""
    terms = []
    for m in _neurons(layers):
        if m.hoyer_loss is not None:
            terms.append(m.hoyer_loss)
            m.hoyer_loss = None
    return terms


def set_record_stats(layers: Layers, enabled: bool) -> None:
    """Make every neuron keep its firing rate and extremum of the next training forwards
    (``last_firing_rate``, ``last_extremum``) for logging."""
    for m in _neurons(layers):
        m.record_stats = bool(enabled)


def set_warmup(layers: Layers, alpha: float, ramp: Optional[str] = None) -> None:
    """The spike warm-up mix ``α`` (training forward only) and, when given, its graded
    function ``ramp`` (``'surrogate'`` or ``'relu'``) of every neuron (each checked by the
    neuron's setter, the one place)."""
    for m in _neurons(layers):
        m.warmup_alpha = alpha
        if ramp is not None:
            m.warmup_ramp = ramp


def set_impl(layers: Layers, impl: str) -> None:
    """The training-step backend of every neuron (:mod:`.backends`; checked by the neuron's
    setter)."""
    for m in _neurons(layers):
        m.impl = impl
