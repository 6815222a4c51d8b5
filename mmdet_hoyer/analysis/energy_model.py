"""Energy per image of a one-time-step SNN and its ANN twin under the assumptions reviewers ask
for: float32 or int8 arithmetic, with or without memory traffic.

Operations (Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm; the figures behind the
4.6 / 0.9 pJ that SNN papers use):

============ ========================================= ===========================================
precision    MAC (ANN, analog inputs)                  AC (SNN, per input spike and synapse)
============ ========================================= ===========================================
``fp32``     4.6 pJ: float32 multiply 3.7 + add 0.9    0.9 pJ: float32 add
``int8``     0.23 pJ: int8 multiply 0.2 + add 0.03     0.03 pJ: int8 add
============ ========================================= ===========================================

Memory traffic follows the analytical model of Lemaire et al. ("An analytical estimation of
spiking neural networks energy efficiency", ICONIP 2022): no data reuse, every operation fetches
its operands from SRAM, and an SNN's synaptic operation reads and writes the membrane potential
it updates. Per dense layer with ``M`` MACs, fan-in ``F`` (so ``M / F`` outputs), ``N`` input
values and, for spike input, ``A = M·r`` accumulates (``r`` the input firing rate):

* ANN (and an SNN layer with analog input): ``M·(b_w + b_a)`` bits read (a weight and an input
  per MAC) and ``(M / F)·b_a`` written (each output once);
* SNN layer with spike input: ``A·(b_w + 2·b_u)`` bits (per synaptic event a weight read and the
  potential read and written), ``N·1`` bit (the spike map scanned once: 1 bit per position
  against ``b_a`` for an activation) and ``(M / F)·2·b_u`` (each potential set and read for the
  threshold compare); a first layer on event counts scans ``N·8`` bits.

``b_w``, ``b_a``, ``b_u`` are the weight, activation and membrane widths: 32 / 32 / 32 bits in
``fp32``, 8 / 8 / 16 in ``int8`` (an int8 weight sum needs more than 8 bits). One SRAM bit costs
10 pJ / 64 = 0.156 pJ (Horowitz 2014: a 64-bit access to an 8 KB SRAM). The model is an upper
bound for both networks (real accelerators reuse weights and inputs); it is the one the
spiking-energy literature cited above uses to show where memory, not arithmetic, decides.
"""
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional, Sequence


class Precision(NamedTuple):
    """Energy per operation (pJ) and storage widths (bits) of one arithmetic precision."""
    name: str
    mac_pj: float
    ac_pj: float
    weight_bits: int
    activation_bits: int
    membrane_bits: int


FP32 = Precision('fp32', mac_pj=4.6, ac_pj=0.9, weight_bits=32, activation_bits=32,
                 membrane_bits=32)
INT8 = Precision('int8', mac_pj=0.2 + 0.03, ac_pj=0.03, weight_bits=8, activation_bits=8,
                 membrane_bits=16)
#: Horowitz 2014, 45 nm: a 64-bit access to an 8 KB SRAM costs 10 pJ
SRAM_PJ_PER_BIT = 10.0 / 64
#: bits per position of an event-count input (a first layer on event histograms)
EVENT_COUNT_BITS = 8


class LayerCount(NamedTuple):
    """What the model needs of one dense layer per image (from :func:`energy_report`'s rows
    and the layer's shape)."""
    name: str
    macs: float
    fan_in: int
    inputs: float
    spike_input: bool
    event_input: bool
    acs: float


def layer_bits(layer: LayerCount, p: Precision) -> Dict[str, float]:
    """SRAM bits moved per image by this layer in the SNN and in the ANN twin (module docstring)."""
    outputs = layer.macs / layer.fan_in
    ann = layer.macs * (p.weight_bits + p.activation_bits) + outputs * p.activation_bits
    if layer.spike_input or layer.event_input:
        scan = layer.inputs * (EVENT_COUNT_BITS if layer.event_input else 1)
        snn = (layer.acs * (p.weight_bits + 2 * p.membrane_bits) + scan
               + outputs * 2 * p.membrane_bits)
    else:
        snn = ann
    return dict(snn=snn, ann=ann)


def layer_ops_pj(layer: LayerCount, p: Precision) -> Dict[str, float]:
    """Arithmetic energy per image (pJ) of this layer in the SNN and in the ANN twin."""
    ann = layer.macs * p.mac_pj
    snn = layer.acs * p.ac_pj if layer.spike_input or layer.event_input else ann
    return dict(snn=snn, ann=ann)


def energy_model(layers: Sequence[LayerCount],
                 precisions: Sequence[Precision] = (FP32, INT8),
                 sram_pj_per_bit: float = SRAM_PJ_PER_BIT) -> dict:
    """Energy per image of the SNN and the ANN twin for each precision, operations alone and
    with memory traffic; ``rows`` (one per assumption: SNN and ANN pJ, ANN/SNN ratio),
    ``layers`` (per layer and precision: bits and pJ) and ``largest_move`` (the assumption
    that moves the ANN/SNN ratio furthest from the float32 operations-only one)."""
    if not sram_pj_per_bit > 0:
        raise ValueError(f'energy_model: sram_pj_per_bit must be > 0, got {sram_pj_per_bit!r}')
    for layer in layers:
        if layer.fan_in < 1 or layer.macs < 0 or layer.acs < 0 or layer.inputs < 0:
            raise ValueError(f'energy_model: layer {layer.name!r} needs fan_in >= 1 and '
                             f'non-negative counts, got {layer}')
    rows: List[dict] = []
    per_layer = OrderedDict((layer.name, OrderedDict()) for layer in layers)
    for p in precisions:
        ops = {k: 0.0 for k in ('snn', 'ann')}
        mem = {k: 0.0 for k in ('snn', 'ann')}
        for layer in layers:
            o, b = layer_ops_pj(layer, p), layer_bits(layer, p)
            for k in ops:
                ops[k] += o[k]
                mem[k] += b[k] * sram_pj_per_bit
            per_layer[layer.name][p.name] = dict(
                snn_ops_pj=o['snn'], ann_ops_pj=o['ann'], snn_bits=b['snn'], ann_bits=b['ann'])
        rows.append(_row(f'{p.name} operations', ops['snn'], ops['ann']))
        rows.append(_row(f'{p.name} operations + memory', ops['snn'] + mem['snn'],
                         ops['ann'] + mem['ann']))
    base = rows[0]['ratio']
    largest = max(rows[1:], key=lambda r: abs(r['ratio'] - base), default=rows[0])
    return OrderedDict(
        rows=rows, layers=per_layer, largest_move=largest['assumption'],
        constants=OrderedDict(sram_pj_per_bit=sram_pj_per_bit,
                              precisions=[p._asdict() for p in precisions],
                              event_count_bits=EVENT_COUNT_BITS))


def _row(assumption: str, snn_pj: float, ann_pj: float) -> dict:
    return OrderedDict(assumption=assumption, snn_pj=snn_pj, ann_pj=ann_pj,
                       ratio=ann_pj / snn_pj if snn_pj > 0 else float('inf'))


def layer_counts(report: dict, fan_in: Dict[str, int], inputs: Dict[str, float]
                 ) -> List[LayerCount]:
    """:class:`LayerCount` of every layer of an :func:`~.operations.energy_report`, with each
    layer's fan-in and input values per image."""
    return [LayerCount(r['name'], r['macs'], int(fan_in[r['name']]),
                       float(inputs.get(r['name'], 0.0)), bool(r['binary_input']),
                       bool(r.get('event_input', False)), r['acs'])
            for r in report['layers']]


def markdown_table(model: dict, label: Optional[str] = None) -> str:
    """The assumptions as a table: SNN and ANN µJ per image and ANN/SNN."""
    head = f'| assumption{f" ({label})" if label else ""} | SNN | ANN twin | ANN/SNN |'
    lines = [head, '|---|---:|---:|---:|']
    for r in model['rows']:
        lines.append(f"| {r['assumption']} | {r['snn_pj'] / 1e6:.1f} µJ | "
                     f"{r['ann_pj'] / 1e6:.1f} µJ | {r['ratio']:.1f}× |")
    return '\n'.join(lines)
