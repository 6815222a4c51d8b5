"""Saved-spike recomputation: the layer after a neuron stores no copy of its spike map.

While training, a :class:`HoyerSpike` saves ``u = z/|θ|`` (float32) for its surrogate gradient,
and the conv that reads its spikes saves the spike map ``o = 1[u ≥ E]`` for its weight
gradient: two activation-sized tensors where a ReLU network saves one (ReLU's output is also the
next conv's saved input). Inside :func:`recompute_spikes` autograd stores, for every spike map a
neuron registered, a reference to that neuron's ``u`` and ``E`` instead of the map, and rebuilds
``1[u ≥ E]`` when backward asks for it: bit-equal to the forward's spikes (the same comparison
on the same ``u``), one activation-sized tensor less per spiking layer.

Only tensors a neuron returned unchanged are replaced (not views, not the warm-up's mixed
output, not a map modified in place since); everything else is saved as usual. The pack/unpack
pair composes with saved-tensor hooks already active outside (e.g. a meter of saved bytes): they
see ``u`` where the spike map would have been.
"""
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch
from torch import Tensor

from .functional import spike_map

_state = threading.local()  # saved-tensor hooks are per thread too


class _SpikeSource:
    """Registered spike map: a weak reference to it and what rebuilds it."""

    __slots__ = ('spikes', 'version', 'u', 'extremum', 'dtype', 'rebuild')

    def __init__(self, spikes: Tensor, u: Tensor, extremum: Tensor,
                 rebuild: Callable[[Tensor, Tensor, torch.dtype], Tensor]) -> None:
        self.spikes = weakref.ref(spikes)
        self.version = spikes._version
        self.u = u
        self.extremum = extremum
        self.dtype = spikes.dtype
        self.rebuild = rebuild


class _Rebuild:
    """What autograd stores in place of a spike map: ``u`` (packed by the outer hooks, if
    any), the extremum ``E``, the map's dtype and the function that rebuilds it."""

    __slots__ = ('u', 'extremum', 'dtype', 'rebuild')

    def __init__(self, u: Any, extremum: Tensor, dtype: torch.dtype,
                 rebuild: Callable[[Tensor, Tensor, torch.dtype], Tensor]) -> None:
        self.u = u
        self.extremum = extremum
        self.dtype = dtype
        self.rebuild = rebuild


def _registry() -> Optional[Dict[int, _SpikeSource]]:
    stack: List[Dict[int, _SpikeSource]] = getattr(_state, 'stack', [])
    return stack[-1] if stack else None


def is_recomputing() -> bool:
    """Whether this thread is inside :func:`recompute_spikes`."""
    return _registry() is not None


def register_spikes(spikes: Tensor, u: Tensor, extremum: Tensor,
                    rebuild: Callable[[Tensor, Tensor, torch.dtype], Tensor] = spike_map
                    ) -> None:
    """Declare ``spikes == 1[u ≥ E]`` (``extremum`` broadcast to ``u``), so a layer
    that saves ``spikes`` for backward stores ``u`` instead. No-op outside
    :func:`recompute_spikes` or when ``spikes`` needs no gradient graph. ``u`` must stay
    unmodified, or modified only where the comparison cannot change, until backward.
    ``rebuild(u, extremum, dtype)`` makes the map again (default :func:`spike_map`; the fused
    CPU neuron passes its own one-pass kernel, same result bit for bit)."""
    registry = _registry()
    if registry is None or spikes.shape != u.shape:
        return
    registry[id(spikes)] = _SpikeSource(spikes, u, extremum.detach(), rebuild)


@contextmanager
def recompute_spikes() -> Iterator[None]:
    """Within the block, layers saving a registered spike map store the neuron's ``u``
    reference instead and rebuild the map in backward (see the module docstring). Backward may
    run after the block ends."""
    outer: Optional[Tuple[Callable, Callable]] = \
        torch._C._autograd._top_saved_tensors_default_hooks(False)
    outer_pack, outer_unpack = outer if outer is not None else (None, None)
    registry: Dict[int, _SpikeSource] = {}

    def pack(t: Tensor) -> Any:
        source = registry.get(id(t))
        if source is not None and source.spikes() is t and t._version == source.version:
            u = outer_pack(source.u) if outer_pack is not None else source.u
            return _Rebuild(u, source.extremum, source.dtype, source.rebuild)
        return outer_pack(t) if outer_pack is not None else t

    def unpack(packed: Any) -> Tensor:
        if isinstance(packed, _Rebuild):
            u = outer_unpack(packed.u) if outer_unpack is not None else packed.u
            return packed.rebuild(u, packed.extremum, packed.dtype)
        return outer_unpack(packed) if outer_unpack is not None else packed

    stack = getattr(_state, 'stack', None)
    if stack is None:
        stack = _state.stack = []
    stack.append(registry)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            yield
    finally:
        stack.pop()
        registry.clear()  # the packed entries hold their own references
