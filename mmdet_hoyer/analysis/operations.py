"""Operation counts and energy of a one-time-step SNN versus its ANN twin.

Dense layers (conv/linear) cost one multiply-accumulate (MAC) per weight use. When a layer's
input is a binary spike map, a MAC with a 0 input is skipped and one with a 1 input is a plain
accumulate (AC): ``ACs = MACs × r_in`` with ``r_in`` the firing rate of that input. Layers with
analog input (the first conv on the image, the analog prediction convs) stay MACs. Energy uses
the 45 nm figures common in SNN papers (Horowitz, ISSCC 2014): MAC 4.6 pJ, AC 0.9 pJ (32-bit
float). The ANN twin runs every MAC of the same network.

An event camera's input is spikes too: a first conv reading *event counts* (whole numbers,
e.g. ``EventHistogram``) adds its weights once per event, ``ACs = MACs × mean count`` (an
event-driven first layer, as the spiking detectors on Gen1 count it); its ANN twin still runs
the dense MACs.
"""
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Tuple

import torch
from torch import nn

from .layer_hooks import LayerHookRecorder

#: 45 nm energy per operation (pJ), 32-bit float (Horowitz 2014).
MAC_PJ = 4.6
AC_PJ = 0.9

DENSE_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def dense_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of every conv/linear layer of ``model``."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, DENSE_TYPES)]


def dense_macs(model: nn.Module, inputs: Tuple) -> Dict[str, float]:
    """MACs of each conv/linear layer for one ``model(*inputs)`` call, counted by MMEngine's
    :class:`~mmengine.analysis.FlopAnalyzer` (fvcore's counter: one fused multiply-add = one
    flop). Layers the call does not reach are left out."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    by_module = analyzer.by_module()
    return OrderedDict((n, float(by_module[n])) for n, _ in dense_layers(model)
                       if by_module.get(n, 0) > 0)


class InputSpikeRecorder(LayerHookRecorder):
    """Records, for each conv/linear layer, how many of its input values are non-zero, their
    sum, whether every input it saw was binary (exactly 0 or 1) and whether every input was a
    whole non-negative number (event counts). Context manager like :class:`FiringRateRecorder`."""

    pre = True

    def __init__(self, model: nn.Module,
                 layers: Optional[Iterable[Tuple[str, nn.Module]]] = None) -> None:
        super().__init__(layers if layers is not None else dense_layers(model))
        self.nonzero: Dict[str, float] = OrderedDict()
        self.total: Dict[str, int] = OrderedDict()
        self.binary: Dict[str, bool] = OrderedDict()
        self.value_sum: Dict[str, float] = OrderedDict()
        self.counts: Dict[str, bool] = OrderedDict()

    def _hook(self, name: str):

        def fn(module: nn.Module, args) -> None:
            x = args[0].detach()
            self.nonzero[name] = self.nonzero.get(name, 0.0) + float(torch.count_nonzero(x))
            self.total[name] = self.total.get(name, 0) + x.numel()
            is_binary = bool(((x == 0) | (x == 1)).all())
            self.binary[name] = self.binary.get(name, True) and is_binary
            self.value_sum[name] = self.value_sum.get(name, 0.0) + float(x.sum())
            is_count = bool(((x >= 0) & (x == torch.round(x))).all())
            self.counts[name] = self.counts.get(name, True) and is_count

        return fn

    def input_rates(self) -> Dict[str, float]:
        """Fraction of non-zero input values per layer (the firing rate for spike inputs)."""
        return OrderedDict((k, self.nonzero[k] / n) for k, n in self.total.items() if n)

    def mean_values(self) -> Dict[str, float]:
        """Mean input value per layer (events per input position for event counts)."""
        return OrderedDict((k, self.value_sum[k] / n) for k, n in self.total.items() if n)


def energy_report(macs: Dict[str, float],
                  input_rates: Dict[str, float],
                  binary_input: Dict[str, bool],
                  mac_pj: float = MAC_PJ,
                  ac_pj: float = AC_PJ,
                  event_counts: Optional[Dict[str, float]] = None) -> dict:
    """Per-layer and total operation counts and energy (pJ) of the SNN and its ANN twin.

    Args:
        macs: dense MACs per layer (per image).
        input_rates: non-zero fraction of each layer's input.
        binary_input: whether each layer's input is a spike map.
        mac_pj, ac_pj: energy per MAC / AC in pJ (> 0).
        event_counts: layers whose input is event counts, with their mean count per input
            position: ``ACs = MACs × mean count``.

    Returns a dict with ``layers`` (name, macs, binary_input, input_rate, acs, snn_macs,
    snn_energy_pj, ann_energy_pj), ``snn`` and ``ann`` totals and ``efficiency_ratio``
    (ANN energy / SNN energy).
    """
    if not (mac_pj > 0 and ac_pj > 0):
        raise ValueError(f'energy_report: mac_pj and ac_pj must be > 0, got {mac_pj}, {ac_pj}')
    rows = []
    event_counts = event_counts or {}
    for name, n_mac in macs.items():
        binary = bool(binary_input.get(name, False))
        rate = float(input_rates.get(name, 1.0))
        events = name in event_counts and not binary
        acs = n_mac * rate if binary else n_mac * event_counts[name] if events else 0.0
        snn_macs = 0.0 if binary or events else n_mac
        rows.append(OrderedDict(
            name=name, macs=n_mac, binary_input=binary, event_input=events, input_rate=rate,
            acs=acs,
            snn_macs=snn_macs, snn_energy_pj=acs * ac_pj + snn_macs * mac_pj,
            ann_energy_pj=n_mac * mac_pj))
    snn_acs = sum(r['acs'] for r in rows)
    snn_macs = sum(r['snn_macs'] for r in rows)
    snn_e = sum(r['snn_energy_pj'] for r in rows)
    ann_macs = sum(r['macs'] for r in rows)
    ann_e = sum(r['ann_energy_pj'] for r in rows)
    return dict(
        layers=rows,
        snn=dict(acs=snn_acs, macs=snn_macs, energy_pj=snn_e),
        ann=dict(macs=ann_macs, energy_pj=ann_e),
        efficiency_ratio=ann_e / snn_e if snn_e > 0 else float('inf'),
        constants=dict(mac_pj=mac_pj, ac_pj=ac_pj))
