"""The NIR graph with 8-bit integer weights, their scales folded into the neurons.

A spiking layer fires on ``z = Σ_k W_k·x_k + b ≥ T`` (BN folded; one term per conv summed into
the neuron: a membrane shortcut adds the previous convs). With integer weights
``W_k ≈ σ·q_k`` (``q_k ∈ [−127, 127]``, one scale ``σ_c`` per output channel shared by every
conv that sums into the neuron), ``z ≥ T ⇔ Σ_k q_k·x_k + b/σ − T/σ ≥ 0``: the graph stores
``q`` and the biases ``b/σ``, and its sums over binary spikes are sums of integers. The
threshold ``T/σ`` differs per channel, so it moves into the bias and the ``IF`` fires on
``v > 0``: snnTorch's importer takes one threshold per ``IF`` node, and chips such as Speck
hold one threshold per layer and a bias per channel.

The terms of one sum cannot have different scales, so the convs of a membrane stream share
them (per channel, also through the channel paddings and average pools that pass the scale
on: :func:`solve_scales`); a network without shortcuts gets per-conv scales, the quantization
:func:`~mmdet_hoyer.deployment.int8.quantize_weights_` applies.

The PyTorch model is quantized to the same values first (:func:`quantize_torch_weights_`), so
the graph is exact against it, as the float graph is against the float model. Values that
leave the graph (head outputs, inputs of host operations) pass a 1×1 ``Conv2d`` with the
per-channel ``σ`` (role ``dequantize``, the host's rescaling); a host result entering the
graph is divided by the scale of what it sums with. Biases stay float (int32 in an
accelerator).
"""
import json
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from .exportable_detector import ExportError
from .nir_graph import NIRExport, export_nir, node_inputs, require_nir

#: roles whose convs only pass each channel on, times one number (the scale follows exactly)
PASS_ON = ('bn', 'pool_avg', 'pool_sum', 'pad_channels')
Element = Tuple[str, int]  # (conv node, output channel)


def channel_factors(weight: np.ndarray) -> Optional[np.ndarray]:
    """Per output channel ``o``, the one value of the weights of a conv that reads only input
    channel ``o`` with equal weights (0: a channel that reads nothing); ``None`` otherwise."""
    out_c, in_c = weight.shape[:2]
    factors = np.zeros(out_c)
    for o in range(out_c):
        nz = np.nonzero(weight[o])
        if not nz[0].size:
            continue
        values = weight[o][nz]
        if o >= in_c or (nz[0] != o).any() or (values != values[0]).any():
            return None
        factors[o] = values[0]
    return factors


class _ScaleUnion:
    """Union-find over ``(node, channel)`` with ratios: ``σ(x) = ratio(x)·σ(root(x))``, and
    fixed values (anchors) on roots."""

    def __init__(self) -> None:
        self.parent: Dict[Element, Element] = {}
        self.ratio: Dict[Element, float] = {}
        self.anchor: Dict[Element, float] = {}

    def find(self, x: Element) -> Tuple[Element, float]:
        self.parent.setdefault(x, x)
        self.ratio.setdefault(x, 1.0)
        r = 1.0
        path = []
        while self.parent[x] != x:
            path.append(x)
            r *= self.ratio[x]
            x = self.parent[x]
        acc = r  # compress: each node on the path points at the root
        for y in path:
            ry = acc
            acc /= self.ratio[y]
            self.parent[y], self.ratio[y] = x, ry
        return x, r

    def union(self, x: Element, y: Element, r: float = 1.0) -> None:
        """``σ(x) = r·σ(y)``."""
        (rx_root, rx), (ry_root, ry) = self.find(x), self.find(y)
        if rx_root == ry_root:
            if not np.isclose(rx, r * ry, rtol=1e-6):
                raise ExportError(f'int8 weights: {x[0]} and {y[0]} (channel {x[1]}) would need '
                                  f'two scales ({rx:.6g} and {r * ry:.6g} of one another)')
            return
        self.parent[rx_root], self.ratio[rx_root] = ry_root, r * ry / rx
        if rx_root in self.anchor:
            self.fix(ry_root, self.anchor.pop(rx_root) / self.ratio[rx_root])

    def fix(self, x: Element, value: float) -> None:
        """``σ(x) = value``."""
        root, r = self.find(x)
        value = value / r
        if root in self.anchor and not np.isclose(self.anchor[root], value, rtol=1e-6):
            raise ExportError(f'int8 weights: {x[0]} channel {x[1]} needs the scale '
                              f'{value * r:.6g} and {self.anchor[root] * r:.6g}')
        self.anchor[root] = value


def _link(graph, node_meta: Dict[str, dict], convs: Dict, channels: Dict[str, int],
          factors: Dict[str, Optional[np.ndarray]]) -> _ScaleUnion:
    """The constraints between scales (:func:`solve_scales`) as a :class:`_ScaleUnion`."""
    ins = node_inputs(graph)
    uf = _ScaleUnion()
    for sources in ins.values():  # the terms of one sum share σ
        scaled = [s for s in sources if s in channels]
        for c in range(channels[scaled[0]] if scaled else 0):
            for s in scaled[1:]:
                uf.union((s, c), (scaled[0], c))
            if len(scaled) < len(sources):  # summed with spikes or the image: σ = 1
                uf.fix((scaled[0], c), 1.0)
    for name, f in factors.items():  # pass-on convs: σ_out = |w|·σ_in
        src = ins[name][0] if f is not None else None
        for c in (np.nonzero(f)[0] if f is not None else ()):
            if src in channels:
                uf.union((name, int(c)), (src, int(c)), abs(float(f[c])))
            else:
                uf.fix((name, int(c)), abs(float(f[c])))
    by_module = defaultdict(list)  # the nodes of one PyTorch conv (run twice) share σ
    for name in convs:
        m = node_meta[name]
        if m['role'] == 'conv':
            by_module[(m['torch_module'], m.get('in_offset', 0))].append(name)
    for names in by_module.values():
        for other in names[1:]:
            for c in range(channels[names[0]]):
                uf.union((other, c), (names[0], c))
    return uf


def solve_scales(graph, node_meta: Dict[str, dict], bits: int = 8) -> Dict[str, np.ndarray]:
    """The scale ``σ`` of each ``Conv2d`` node's output channels (and of each host result's).

    The terms of every sum share ``σ`` per channel (a neuron, a conv or an output reading
    several nodes); spikes and the image have ``σ = 1``; a host result (``from_host``) takes
    the ``σ`` of what it sums with (the host divides by it). A pass-on conv (:data:`PASS_ON`)
    scales its input's ``σ`` by ``|w|``. Every other conv needs ``σ ≥ max|W·σ_in| / qmax`` per
    output channel; a shared scale is the largest need of its terms. The nodes of one PyTorch
    conv (a conv run twice) share it too."""
    nir = require_nir()
    qmax = 2 ** (bits - 1) - 1
    ins = node_inputs(graph)
    convs = {k: n for k, n in graph.nodes.items() if isinstance(n, nir.Conv2d)}
    channels = {k: n.weight.shape[0] for k, n in convs.items()}
    channels.update({k: int(n.input_type['input'][0]) for k, n in graph.nodes.items()
                     if node_meta[k]['role'] == 'from_host'})
    factors = {k: channel_factors(n.weight) if node_meta[k]['role'] in PASS_ON else None
               for k, n in convs.items()}
    uf = _link(graph, node_meta, convs, channels, factors)
    members = defaultdict(list)
    for name, count in channels.items():
        for c in range(count):
            root, r = uf.find((name, c))
            members[root].append((name, c, r))
    sigma: Dict[Element, float] = {}
    known: Dict[str, np.ndarray] = {}

    def input_scale(name: str) -> Optional[np.ndarray]:
        """σ of a conv's input channels, once the groups of its source are solved."""
        if name not in known:
            src = ins[name][0] if ins[name] else None
            if src not in channels:
                known[name] = np.ones(convs[name].weight.shape[1])
            else:
                found = [uf.find((src, c)) for c in range(channels[src])]
                if any(root not in sigma for root, _ in found):
                    return None
                known[name] = np.array([sigma[root] * r for root, r in found])
        return known[name]

    def need(root: Element) -> Optional[float]:
        """The smallest σ of ``root`` every quantized member fits in (None: not ready)."""
        most = 0.0
        for name, c, r in members[root]:
            if name not in convs or factors[name] is not None:
                continue  # a host result or a pass-on conv: exact at any σ
            s_in = input_scale(name)
            if s_in is None:
                return None
            w = convs[name].weight[c].astype(np.float64) * s_in[:, None, None]
            most = max(most, float(np.abs(w).max()) / qmax / r)
        return most

    pending = set(members)
    while pending:  # in dependency order: a conv's need depends on its inputs' scales
        done = []
        for root in pending:
            most = need(root)
            if most is None:
                continue
            value = uf.anchor.get(root, most if most > 0 else 1.0)
            if most > value * (1 + 1e-6):
                name, c, _ = members[root][0]
                raise ExportError(f'int8 weights: {name} channel {c} sums with an input of '
                                  f'fixed scale {value:.4g}; its weights need {most:.4g} in '
                                  f'{bits} bits')
            sigma[root] = value
            done.append(root)
        if not done:
            raise ExportError('int8 weights: the scales of '
                              f'{sorted({m[0] for r in pending for m in members[r]})[:5]} '
                              'depend on one another (a conv reading an analog sum of its own '
                              'group)')
        pending -= set(done)
    return {name: np.array([sigma[uf.find((name, c))[0]] * uf.find((name, c))[1]
                            for c in range(count)])
            for name, count in channels.items()}


def _input_scales(graph, ins: Dict[str, List[str]], scales: Dict[str, np.ndarray],
                  name: str) -> np.ndarray:
    """``σ`` of a conv node's input channels (its sources ``ins[name]`` share it; 1 for
    spikes and the image)."""
    for s in ins[name]:
        if s in scales:
            return scales[s]
    return np.ones(graph.nodes[name].weight.shape[1])


def in_steps(weight: np.ndarray, s_in: np.ndarray, s_out: np.ndarray) -> np.ndarray:
    """``W·σ_in / σ_out`` per output and input channel: the weights in steps of the grid."""
    return weight.astype(np.float64) * s_in[None, :, None, None] / s_out[:, None, None, None]


def integer_weights(weight: np.ndarray, s_in: np.ndarray, s_out: np.ndarray,
                    bits: int = 8) -> np.ndarray:
    """:func:`in_steps` rounded, clipped to ``±qmax``."""
    qmax = 2 ** (bits - 1) - 1
    return np.clip(np.round(in_steps(weight, s_in, s_out)), -qmax, qmax)


def _fold_factor(detector: nn.Module, meta: dict, channels: int) -> np.ndarray:
    """The per-channel BN scale ``γ/√(σ²+ε)`` folded into a conv node (1 if none)."""
    if 'folded_bn' not in meta:
        return np.ones(channels)
    bn = detector.get_submodule(meta['folded_bn'])
    a = bn.weight.detach().double() if bn.affine else torch.ones(channels, dtype=torch.float64)
    return (a / torch.sqrt(bn.running_var.detach().double() + bn.eps)).numpy()


def quantize_torch_weights_(detector: nn.Module, export: NIRExport,
                            scales: Dict[str, np.ndarray], bits: int = 8) -> Dict[str, float]:
    """Set each PyTorch conv to the weights the int8 graph holds: ``σ·q / (σ_in·a)``
    (``a`` the BN folded after it), in place. The largest absolute change per conv."""
    graph, meta = export.graph, export.node_meta
    ins = node_inputs(graph)
    changes: Dict[str, float] = {}
    written: Dict[str, Tensor] = {}
    for name, s_out in scales.items():
        node, m = graph.nodes[name], meta[name]
        if m['role'] == 'from_host':
            continue
        s_in = _input_scales(graph, ins, scales, name)
        q = integer_weights(node.weight, s_in, s_out, bits)
        value = s_out[:, None, None, None] * q / s_in[None, :, None, None]
        if m['role'] != 'conv':  # the graph's own convs (pooling, padding, BN) must be exact
            if not np.allclose(value, node.weight, rtol=1e-6, atol=1e-12):
                raise ExportError(f'int8 weights: {name} ({m["role"]}) is not exact in '
                                  f'{bits} bits')
            continue
        a = _fold_factor(detector, m, node.weight.shape[0])
        conv = detector.get_submodule(m['torch_module'])
        off = m.get('in_offset', 0)
        w = conv.weight.detach().double().clone() if m['torch_module'] not in written else \
            written[m['torch_module']]
        part = w[:, off:off + node.weight.shape[1]]
        keep = a == 0  # a channel BN zeroes: its weights do not matter
        new = torch.from_numpy(value / np.where(keep, 1.0, a)[:, None, None, None])
        new[torch.from_numpy(keep)] = part[torch.from_numpy(keep)]
        changes[m['torch_module']] = max(changes.get(m['torch_module'], 0.0),
                                         float((new - part).abs().max()))
        part.copy_(new)
        written[m['torch_module']] = w
    with torch.no_grad():
        for module, w in written.items():
            conv = detector.get_submodule(module)
            conv.weight.copy_(w.to(conv.weight.dtype))
    return changes


def integerize_graph_(export: NIRExport, scales: Dict[str, np.ndarray], bits: int = 8,
                      tol: float = 1e-3) -> None:
    """Rewrite ``export``'s graph in place: integer conv weights, biases ``b/σ``, IF
    thresholds ``T/σ`` (as biases before a threshold 0: :func:`_threshold_to_bias`), and a
    ``dequantize`` node in front of every output that carries a scale. The weights must lie
    on the grid already (:func:`quantize_torch_weights_`)."""
    nir = require_nir()
    graph, meta = export.graph, export.node_meta
    ins = node_inputs(graph)
    sources_scale = {}
    for name, node in list(graph.nodes.items()):
        conv_src = [s for s in ins[name] if s in scales]
        sources_scale[name] = scales[conv_src[0]] if conv_src else None
    for name, s_out in scales.items():
        node = graph.nodes[name]
        if meta[name]['role'] == 'from_host':  # the host divides its result by σ
            _scale_host_result(export, name, s_out)
            continue
        s_in = _input_scales(graph, ins, scales, name)
        exact = in_steps(node.weight, s_in, s_out)
        q = np.round(exact)
        if np.abs(exact - q).max() > tol or np.abs(q).max() > 2 ** (bits - 1) - 1:
            raise ExportError(f'int8 weights: {name} is not on its {bits}-bit grid (max '
                              f'distance {np.abs(exact - q).max():.3g}); quantize the model '
                              'with quantize_torch_weights_ first')
        node.weight = q.astype(np.float32)
        node.bias = (node.bias.astype(np.float64) / s_out).astype(np.float32)
        meta[name]['int8_scale'] = s_out.tolist()
    edges = list(graph.edges)
    for name, node in list(graph.nodes.items()):
        s = sources_scale[name]
        if s is None:
            continue
        if isinstance(node, nir.IF):
            edges = _threshold_to_bias(graph, meta, name, s, ins, edges)
        elif isinstance(node, nir.Output) and not np.all(s == 1.0):
            shape = tuple(int(v) for v in node.output_type['output'])
            weight = np.zeros((shape[0], shape[0], 1, 1), np.float32)
            weight[np.arange(shape[0]), np.arange(shape[0]), 0, 0] = s
            deq = f'{name}.dequantize'
            graph.nodes[deq] = nir.Conv2d(input_shape=shape[1:], weight=weight, stride=(1, 1),
                                          padding=(0, 0), dilation=(1, 1), groups=1,
                                          bias=np.zeros(shape[0], np.float32))
            graph.nodes[deq].metadata = dict(role='dequantize', torch_module=name)
            meta[deq] = dict(role='dequantize', torch_module=name)
            edges = [(src, deq if dst == name else dst) for src, dst in edges] + [(deq, name)]
    graph.edges = edges
    graph.metadata = dict(graph.metadata or {}, int8_weights=json.dumps(dict(
        bits=bits, weights='integers in [-{0}, {0}], one scale per output channel shared by the '
        'convs summed into one neuron'.format(2 ** (bits - 1) - 1),
        thresholds='IF v_threshold = T / scale, biases = b / scale (float)',
        outputs="scaled back by the 1x1 'dequantize' convs in front of each Output")))


def _scale_host_result(export: NIRExport, node: str, s: np.ndarray) -> None:
    """The host operation whose result enters through ``node`` divides it by ``σ``."""
    if np.all(s == 1.0):
        return
    div = torch.from_numpy(s.astype(np.float32)).reshape(-1, 1, 1)
    for h in export.host_ops:
        if h.output == node:
            h.fn = lambda values, fn=h.fn: fn(values) / div
            h.reason += f' (its result divided by the int8 scale of {node})'


def _threshold_to_bias(graph, meta, name: str, s: np.ndarray, ins, edges) -> List:
    """IF ``name`` fires on ``v > T⁻``; in the scaled sum ``v/σ`` that is
    ``v/σ − T⁻/σ > 0``: its threshold becomes 0 and ``−T⁻/σ`` (per channel) a bias, in the
    bias of its only source conv, or of a 1×1 conv with zero weights (role
    ``threshold_offset``) where its sources also feed other nodes (a membrane stream)."""
    nir = require_nir()
    node = graph.nodes[name]
    thr = node.v_threshold.reshape(node.v_threshold.shape[0], -1)[:, 0].astype(np.float64)
    offset = -thr / s
    node.v_threshold = np.zeros_like(node.v_threshold)
    sources = ins[name]
    outs = defaultdict(int)
    for src, _ in edges:
        outs[src] += 1
    convs = [src for src in sources if isinstance(graph.nodes[src], nir.Conv2d)]
    if convs and all(outs[src] == 1 for src in sources):
        first = graph.nodes[convs[0]]
        first.bias = (first.bias.astype(np.float64) + offset).astype(np.float32)
        return edges
    shape = tuple(int(v) for v in node.v_threshold.shape)
    new = f'{name}.offset'
    graph.nodes[new] = nir.Conv2d(input_shape=shape[1:], weight=np.zeros(
        (shape[0], shape[0], 1, 1), np.float32), stride=(1, 1), padding=(0, 0),
        dilation=(1, 1), groups=1, bias=offset.astype(np.float32))
    graph.nodes[new].metadata = dict(role='threshold_offset', torch_module=name)
    meta[new] = dict(role='threshold_offset', torch_module=meta[name]['torch_module'])
    return edges + [(sources[0], new), (new, name)]


def export_nir_int8(module: nn.Module, forward: Callable, inputs: Tensor,
                    output_names: Sequence[str], metadata: Optional[dict] = None,
                    bits: int = 8) -> Tuple[NIRExport, Dict[str, float]]:
    """:func:`export_nir` with integer weights (module docstring). ``module``'s convs are
    quantized in place to the graph's values, so it is the int8 PyTorch model the graph is
    exact against. Returns the export and the largest weight change per PyTorch conv."""
    if not 2 <= bits <= 8:
        raise ValueError(f'int8 weights: bits must be in [2, 8], got {bits!r}')
    first = export_nir(module, forward, inputs, output_names, metadata)
    scales = solve_scales(first.graph, first.node_meta, bits)
    changes = quantize_torch_weights_(module, first, scales, bits)
    export = export_nir(module, forward, inputs, output_names, metadata)
    if set(export.graph.nodes) != set(first.graph.nodes):
        raise ExportError('int8 weights: the graph of the quantized model differs from the '
                          "float model's")
    integerize_graph_(export, scales, bits)
    return export, changes


__all__ = ['channel_factors', 'export_nir_int8', 'integer_weights', 'integerize_graph_',
           'quantize_torch_weights_', 'solve_scales']
