"""Firing-rate bookkeeping for spiking layers (used by hooks and analysis tools)."""
from collections import OrderedDict
from typing import Dict, Iterable, Optional, Tuple

import torch
from torch import Tensor, nn

from mmdet_hoyer.models.layers import hoyer_layers as spiking_layers  # noqa: F401  (re-export)
from .layer_hooks import LayerHookRecorder


def layer_group(name: str, depth: int = 1) -> str:
    """Group of a layer: the first ``depth`` components of its module path (e.g. 'backbone')."""
    return '.'.join(name.split('.')[:depth])


class FiringRateRecorder(LayerHookRecorder):
    """Counts the ones each spiking layer emits while it is attached.

    Use as a context manager (or call :meth:`attach` / :meth:`detach`); forward hooks add each
    output's number of ones and elements, so the rate of a layer is exact over all batches
    seen (not a mean of per-batch means). Costs one reduction per spiking output while attached
    and nothing otherwise. With ``per_channel`` it also counts each channel's ones (dimension 1
    of the output), for :meth:`channel_rates` (the same one reduction, kept per channel).
    """

    def __init__(self, model: nn.Module, layers: Optional[Iterable[Tuple[str, nn.Module]]] = None,
                 per_channel: bool = False):
        super().__init__(layers if layers is not None else spiking_layers(model))
        self.per_channel = per_channel
        self.ones: Dict[str, Tensor] = OrderedDict()
        self.total: Dict[str, int] = OrderedDict()
        self.shapes: Dict[str, Tuple[int, ...]] = OrderedDict()
        self.channel_ones: Dict[str, Tensor] = OrderedDict()

    def _hook(self, name: str):

        def fn(module: nn.Module, inputs, output: Tensor) -> None:
            with torch.no_grad():
                if self.per_channel:  # the layer's count is the sum of its channels' counts
                    dims = [d for d in range(output.dim()) if d != 1]
                    per = output.detach().sum(dim=dims, dtype=torch.float64)
                    self.channel_ones[name] = self.channel_ones.get(name, 0) + per
                    ones = per.sum()
                else:
                    ones = output.detach().sum(dtype=torch.float64)
            self.ones[name] = self.ones.get(name, 0) + ones
            self.total[name] = self.total.get(name, 0) + output.numel()
            self.shapes[name] = tuple(output.shape[1:])

        return fn

    def reset(self) -> None:
        self.ones.clear()
        self.total.clear()
        self.shapes.clear()
        self.channel_ones.clear()

    def counts(self) -> Dict[str, Tuple[float, int]]:
        """``{layer: (ones, elements)}`` as Python numbers."""
        return OrderedDict((k, (float(self.ones[k]), int(self.total[k]))) for k in self.total)

    def rates(self) -> Dict[str, float]:
        """Per-layer firing rate (fraction of ones)."""
        return OrderedDict((k, o / n) for k, (o, n) in self.counts().items() if n > 0)

    def channel_rates(self) -> Dict[str, Tensor]:
        """Per-layer firing rate of each channel (float64, one value per channel); needs
        ``per_channel=True``."""
        if not self.per_channel:
            raise RuntimeError('FiringRateRecorder: channel_rates() needs per_channel=True')
        out = OrderedDict()
        for k, ones in self.channel_ones.items():
            positions = self.total[k] // ones.numel()  # elements per channel over all batches
            out[k] = ones / positions
        return out

    def mean_rate(self) -> float:
        """Network firing rate weighted by neurons: Σ ones / Σ elements over all layers."""
        counts = self.counts().values()
        total = sum(n for _, n in counts)
        return sum(o for o, _ in counts) / total if total else float('nan')
