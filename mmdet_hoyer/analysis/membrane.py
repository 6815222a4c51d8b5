"""Membrane-potential statistics of spiking layers around their firing thresholds.

The paper argues that the Hoyer regularizer pushes the membrane potential ``u = z/|θ|`` away
from the threshold ``E``, so that small perturbations flip few spikes. This module records,
in eval mode, a histogram of ``u`` and the fraction of units with ``|u − E| ≤ margin``.
"""
from collections import OrderedDict
from typing import Dict, Iterable, Tuple

import torch
from torch import Tensor, nn

from mmdet_hoyer.models.layers.neuron.functional import channel_view
from .layer_hooks import LayerHookRecorder


class MembraneRecorder(LayerHookRecorder):
    """Histograms ``u`` of the given :class:`HoyerSpike` layers (eval thresholds).

    In ``'layer'`` mode the histogram is of ``u`` itself and the threshold is the layer's
    running ``E``. In ``'channel'`` mode every channel has its own ``E_c``; the histogram is of
    ``u − E_c + Ē`` (``Ē`` the mean over channels) so that one line at ``Ē`` marks every
    channel's threshold. Values outside ``value_range`` are counted in ``below``/``above``.

    Args:
        layers: ``(name, HoyerSpike)`` pairs.
        bins: number of histogram bins.
        value_range: histogram range of ``u``.
        margin: half-width of the "near threshold" band.
    """

    pre = True  # u is computed from the neuron's input

    def __init__(self, layers: Iterable[Tuple[str, nn.Module]], bins: int = 120,
                 value_range: Tuple[float, float] = (-1.0, 2.0), margin: float = 0.1) -> None:
        if bins < 1 or not value_range[0] < value_range[1] or margin < 0:
            raise ValueError('MembraneRecorder: need bins >= 1, value_range[0] < value_range[1] '
                             f'and margin >= 0, got {bins}, {value_range}, {margin}')
        super().__init__(layers)
        self.bins, self.range, self.margin = bins, tuple(map(float, value_range)), float(margin)
        self.hist: Dict[str, Tensor] = OrderedDict()
        self.below: Dict[str, int] = OrderedDict()
        self.above: Dict[str, int] = OrderedDict()
        self.near: Dict[str, int] = OrderedDict()
        self.total: Dict[str, int] = OrderedDict()
        #: the extremum E each layer's histogram is drawn against (its threshold on u)
        self.extremum: Dict[str, float] = OrderedDict()

    def _hook(self, name: str):

        def fn(module: nn.Module, args) -> None:
            z = args[0].detach().float()
            u = z / module.clip_threshold.detach().float()
            e = module.extremum().detach().float()
            if e.numel() > 1:  # channel mode: align every channel's threshold at the mean
                u = u - channel_view(e, u.ndim) + e.mean()
            e_line = float(e.mean())
            lo, hi = self.range
            h = torch.histc(u, bins=self.bins, min=lo, max=hi).double()
            self.hist[name] = self.hist.get(name, 0) + h
            self.below[name] = self.below.get(name, 0) + int((u < lo).sum())
            self.above[name] = self.above.get(name, 0) + int((u > hi).sum())
            self.near[name] = self.near.get(name, 0) + int(((u - e_line).abs() <= self.margin).sum())
            self.total[name] = self.total.get(name, 0) + u.numel()
            self.extremum[name] = e_line

        return fn

    def near_fraction(self) -> Dict[str, float]:
        """Fraction of units within ``±margin`` of the threshold, per layer."""
        return OrderedDict((k, self.near[k] / n) for k, n in self.total.items() if n)

    def bin_edges(self) -> Tensor:
        return torch.linspace(self.range[0], self.range[1], self.bins + 1)
