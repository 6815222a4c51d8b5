"""Post-training int8 quantization of a trained detector, simulated in float ("fake
quantization"): what 8-bit weights (every neuromorphic target stores them) and, for the ANN
twin, 8-bit activations cost in accuracy.

Weights: symmetric, per output channel, ``q = round(w / s)`` with ``s = max|w_c| / 127``, so
``q ∈ [−127, 127]`` and ``|w − s·q| ≤ s/2``. Per-channel symmetric quantization commutes with a
per-channel positive scale, so quantizing a conv before its BatchNorm equals quantizing the
BN-folded conv: the spiking layer still fires on ``z = a·Σ q·x + b ≥ T`` (``a = s·γ/σ``, ``b``
the folded bias), i.e. ``Σ q·x ≥ (T − b)/a`` with integer ``Σ q·x`` for binary ``x``: one
integer threshold per channel. Biases and thresholds stay in float (int32 in an accelerator).

Activations (ANN twin): the input of every conv/linear layer quantized per tensor to 8 bits,
its range calibrated on training images: ``[0, max]`` unsigned for non-negative inputs (ReLU
outputs), ``[−m, m]`` signed otherwise (``m = max|x|``). A binary spike map is exact in any
integer format and is left alone, so an SNN's "activations" need no calibration.
"""
import contextlib
from collections import OrderedDict
from typing import Dict, Iterable, Iterator, List, Tuple

import torch
from torch import Tensor, nn

from mmdet_hoyer.analysis.operations import dense_layers

QMAX = 127  # symmetric int8: [−127, 127]


def quantize_per_channel(w: Tensor, bits: int = 8) -> Tuple[Tensor, Tensor]:
    """``(q, s)``: integer weights (``int8`` for 8 bits) and the per-output-channel scale
    (``w.shape[0]`` values) of symmetric quantization; an all-zero channel gets scale 1."""
    if not 2 <= bits <= 8:
        raise ValueError(f'quantize_per_channel: bits must be in [2, 8], got {bits!r}')
    qmax = 2 ** (bits - 1) - 1
    flat = w.detach().reshape(w.shape[0], -1).double()
    scale = flat.abs().amax(1) / qmax
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(flat / scale[:, None]).clamp_(-qmax, qmax)
    return q.to(torch.int8).reshape(w.shape), scale.float()


def dequantize_per_channel(q: Tensor, scale: Tensor) -> Tensor:
    """``s·q`` in float32, ``q``'s shape."""
    return (q.double() * scale.double().reshape((-1, ) + (1, ) * (q.dim() - 1))).float()


def quantize_weights_(model: nn.Module, bits: int = 8) -> Dict[str, float]:
    """Replace every conv/linear weight of ``model`` by its per-channel quantized value (in
    place); the largest absolute change of each layer's weights, by name."""
    changes = OrderedDict()
    with torch.no_grad():
        for name, m in dense_layers(model):
            q, s = quantize_per_channel(m.weight, bits)
            new = dequantize_per_channel(q, s).to(m.weight.dtype)
            changes[name] = float((new - m.weight).abs().max())
            m.weight.copy_(new)
    return changes


def integer_threshold(threshold: Tensor, bias: Tensor, scale: Tensor) -> Tensor:
    """The per-channel integer threshold ``ceil((T − b) / a)`` on ``Σ q·x`` equivalent to
    ``a·Σ q·x + b ≥ T`` (``a > 0``: the BN-folded weight scale, ``b``: the folded bias)."""
    if not bool((scale > 0).all()):
        raise ValueError('integer_threshold: the scales must be > 0 (fold a negative BN gamma '
                         'into the sign of the weights first)')
    return torch.ceil((threshold.double() - bias.double()) / scale.double())


class ActivationQuantizer:
    """8-bit fake quantization of the inputs of ``layers`` (conv/linear), per tensor.

    ``with quantizer.calibrating(): model(x)`` records each input's range; then
    ``with quantizer.quantizing(): model(x)`` runs with quantized inputs. Binary inputs
    (spike maps) are never changed."""

    def __init__(self, layers: Iterable[Tuple[str, nn.Module]], bits: int = 8) -> None:
        self.layers = list(layers)
        self.bits = bits
        self.low: Dict[str, float] = {}
        self.high: Dict[str, float] = {}
        self.binary: Dict[str, bool] = {}
        self._handles: List = []

    def _observe(self, name: str):
        def fn(module, args):
            x = args[0].detach()
            self.low[name] = min(self.low.get(name, 0.0), float(x.min()))
            self.high[name] = max(self.high.get(name, 0.0), float(x.max()))
            self.binary[name] = self.binary.get(name, True) and bool(((x == 0) | (x == 1)).all())
        return fn

    def _quantize(self, name: str):
        def fn(module, args):
            if name not in self.high or self.binary.get(name, False):
                return None
            return (fake_quantize_tensor(args[0], self.low[name], self.high[name], self.bits),
                    *args[1:])
        return fn

    def _attach(self, make) -> None:
        self._handles = [m.register_forward_pre_hook(make(n)) for n, m in self.layers]

    def detach(self) -> None:
        """Stop recording or quantizing: the layers run as before."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def attach(self) -> None:
        """Quantize inputs from now on (until :meth:`detach`), e.g. for a whole test loop."""
        if not self.high:
            raise RuntimeError('ActivationQuantizer: calibrate on some images first '
                               '(with quantizer.calibrating(): model(x))')
        self._attach(self._quantize)

    @contextlib.contextmanager
    def calibrating(self) -> Iterator['ActivationQuantizer']:
        """Record the input ranges of the layers inside the block."""
        self._attach(self._observe)
        try:
            yield self
        finally:
            self.detach()

    @contextlib.contextmanager
    def quantizing(self) -> Iterator['ActivationQuantizer']:
        """Run the layers inside the block with quantized inputs."""
        self.attach()
        try:
            yield self
        finally:
            self.detach()


def fake_quantize_tensor(x: Tensor, low: float, high: float, bits: int = 8) -> Tensor:
    """``x`` rounded to ``2**bits`` levels over its calibrated range: unsigned ``[0, high]``
    when ``low ≥ 0``, else signed symmetric ``[−m, m]``, ``m = max(|low|, |high|)``; values
    beyond the range saturate."""
    if low >= 0:
        step = high / (2 ** bits - 1) if high > 0 else 1.0
        return torch.round(x / step).clamp_(0, 2 ** bits - 1) * step
    m = max(-low, high)
    qmax = 2 ** (bits - 1) - 1
    step = m / qmax if m > 0 else 1.0
    return torch.round(x / step).clamp_(-qmax, qmax) * step


def activation_quantizer(model: nn.Module, bits: int = 8) -> ActivationQuantizer:
    """An :class:`ActivationQuantizer` on every conv/linear layer of ``model``."""
    return ActivationQuantizer(dense_layers(model), bits)
