"""The spike's surrogate gradient: one object, checked once, passed to every backend.

The forward spike ``o = 1[u ≥ E]`` has no useful derivative; training uses the straight-through
box-car of the authors' code, ``∂o/∂u = scale·1[lower < u ≤ upper]`` (paper code:
``0.5·1[0 < u ≤ 2]``). :class:`BoxcarSurrogate` holds the three numbers, validates them where it
is built (:meth:`BoxcarSurrogate.checked`) and computes everything derived from them: the
gradient window, its primitive (the ramp the spike warm-up mixes in) and the range the saved
``u`` is clamped to.
"""
import functools
from typing import NamedTuple, Optional, Tuple, Union

import torch
from torch import Tensor


@functools.lru_cache(maxsize=64)
def _next_up(x: float) -> float:
    """The next float32 above ``x`` (exact in float32, as ATen converts the scalar); cached:
    the surrogate's bounds are per-layer constants."""
    return torch.nextafter(torch.tensor(x, dtype=torch.float32),
                           torch.tensor(float('inf'))).item()


# Window masks use ATen's fused ``hardtanh_backward(g, x, lo, hi) = g·1[lo < x < hi]``: one pass,
# no bool tensor. Building ``1[...]`` from bool comparisons and converting it (or ``torch.where``)
# made the neuron's backward several times slower than ReLU's on CPU. The right-closed window
# ``lower < u ≤ upper`` is exact: for float32 ``u``, ``u ≤ upper ⇔ u < nextafter(upper, +∞)``.
def window_grad(g: Tensor, u: Tensor, lower: float, upper: float, right_closed: bool = True,
                out: Optional[Tensor] = None) -> Tensor:
    """``g·1[lower < u ≤ upper]`` (``< upper`` when not ``right_closed``); written to ``out``
    (which may be ``g`` itself: element-wise) or a new tensor."""
    hi = _next_up(upper) if right_closed else upper
    if out is None:
        return torch.ops.aten.hardtanh_backward(g, u, lower, hi)
    return torch.ops.aten.hardtanh_backward.grad_input(g, u, lower, hi, grad_input=out)


class BoxcarSurrogate(NamedTuple):
    """``∂o/∂u = scale·1[lower < u ≤ upper]``; a tuple of three floats (hashable: a constant
    for ``torch.compile`` and the C++ kernels, which take its fields)."""
    scale: float = 0.5
    lower: float = 0.0
    upper: float = 2.0

    @classmethod
    def checked(cls, scale: float = 0.5, lower: float = 0.0, upper: float = 2.0,
                owner: str = 'HoyerSpike') -> 'BoxcarSurrogate':
        """The surrogate, after the one check of its numbers (``ValueError`` naming the
        ``owner``'s argument): ``scale > 0``, ``lower < upper`` and a window that overlaps the
        firing region around ``E ∈ (0, 1]``."""
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f'{owner}: surrogate_scale must be > 0 (otherwise no gradient '
                             f'reaches the layer below), got {scale!r}')
        if not all(isinstance(v, (int, float)) for v in (lower, upper)) or not lower < upper:
            raise ValueError(f'{owner}: the surrogate window needs surrogate_lower < '
                             f'surrogate_upper, got ({lower!r}, {upper!r})')
        if upper <= 0 or lower >= 1:
            raise ValueError(
                f'{owner}: the surrogate window (surrogate_lower, surrogate_upper] must overlap '
                f'the firing region around the extremum E in (0, 1], got ({lower!r}, {upper!r}]')
        return cls(float(scale), float(lower), float(upper))

    @classmethod
    def of(cls, value: Union['BoxcarSurrogate', Tuple[float, float, float]]
           ) -> 'BoxcarSurrogate':
        """``value`` as a surrogate (a plain ``(scale, lower, upper)`` tuple is accepted)."""
        return value if isinstance(value, cls) else cls(*(float(v) for v in value))

    def grad(self, grad_o: Tensor, u: Tensor) -> Tensor:
        """``∂L/∂u = scale·1[lower < u ≤ upper]·∂L/∂o`` (float32, new tensor)."""
        grad_u = window_grad(grad_o.float(), u, self.lower, self.upper)
        return grad_u.mul_(self.scale) if self.scale != 1.0 else grad_u

    def primitive(self, u: Tensor) -> Tensor:
        """``P(u) = scale·(clamp(u, lower, upper) − lower)``: the ramp whose derivative is the
        surrogate (paper code: ``0.5·clamp(u, 0, 2)``), the graded forward of the spike
        warm-up."""
        return (u.clamp(self.lower, self.upper) - self.lower).mul_(self.scale)

    def saved_bounds(self) -> Tuple[float, float]:
        """The range the saved ``u`` is clamped to: it contains the window and the clip range
        (0, 1) with margin, so every mask and product the backward computes is unchanged,
        ``1[u ≥ E]`` is too (``E ∈ (0, 1]``), and an infinite ``u`` (e.g. a float16 input
        beyond 65504) cannot turn ``0·u`` into NaN."""
        return min(self.lower, 0.0) - 1.0, max(self.upper, 1.0) + 1.0

    def bound_(self, u: Tensor) -> Tensor:
        """``u`` clamped in place to :meth:`saved_bounds`."""
        return u.clamp_(*self.saved_bounds())

    def __str__(self) -> str:
        return f'{self.scale}*1[{self.lower}<u<={self.upper}]'


#: the authors' surrogate, every neuron's default
PAPER_SURROGATE = BoxcarSurrogate()
