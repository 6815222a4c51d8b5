"""The eval-mode spiking detector as a NIR graph (Neuromorphic Intermediate Representation).

:func:`export_nir` traces the folded eval network (:class:`ExportableDetector`: every
``HoyerSpike`` a ``FoldedSpike`` ``1[z ≥ T]``) with ``torch.fx`` and rewrites each operation
into NIR 1.0 nodes **exactly** — the same spikes up to the float rounding of reordered sums,
never an approximation:

* ``Conv2d`` → ``Conv2d``; a ``BatchNorm2d`` right after a conv is folded into it (weights and
  bias scaled per output channel), any other BN becomes a 1×1 ``Conv2d`` with a diagonal
  weight (NIR has no BN node).
* ``FoldedSpike`` → ``IF`` (``r = 1``, ``v_reset = 0``, one step from ``v = 0``) firing on
  ``v > T⁻``, ``T⁻`` the float32 just below ``T``: for float32 ``v``, ``v > T⁻ ⇔ v ≥ T``, so
  NIR's strict comparison gives the project's spikes bit for bit.
* A sum (membrane shortcut, residual) → several edges into one node (NIR sums a node's
  inputs); nothing is added to the graph.
* Max pool of spikes → their OR: a ``Conv2d`` summing each window (weights 1) and an ``IF``
  firing on a sum > 0.5. Max pool of an analog map that goes only through BN into a neuron
  (ResNet's stem and shortcut pools) commutes with them: per channel the OR of the window's
  spikes where BN's scale is ≥ 0, their AND (the window sum reaches the count of the window's
  positions inside the map, as max pool's −∞ padding ignores the rest) where it is negative,
  both as one neuron with one threshold (:meth:`NIRBuilder.spike_then_pool`). Average pool → a ``Conv2d`` with weights ``1/k²``. Pools whose ceil-mode rounding
  a convolution cannot reproduce are not exported (see below).
* Channel concatenation followed by a conv → the conv split along its input channels, one
  ``Conv2d`` per part, all into the same node: ``conv(cat(a, b)) = conv_a(a) + conv_b(b)``.
* Zero-padding of channels (a membrane stream entering a wider stage, ``widening_shortcut``)
  → a 1×1 ``Conv2d`` whose weight embeds the channels (``[I; 0]``).
* Depthwise operations are written as dense ``Conv2d`` with block-diagonal weights: NIR
  1.0.8's type inference assumes ``groups = 1`` (a grouped ``Conv2d`` fails ``nir.read``).

What NIR cannot hold — nearest-neighbour upsampling (YOLOv3's and FPN's necks; NIR has no
upsampling node), a max pool of an analog sum (the backbones' default
``pool_on='pre_activation'`` with membrane shortcuts), anything else — stays on the host and
is listed: its inputs leave the graph through ``Output`` nodes ``to_host.<op>.<i>``, its
result re-enters through an ``Input`` node ``from_host.<op>``; :class:`NIRExport` keeps the
callable and ``host_ops`` says what runs where and why. Never silently.
"""
import json
import operator
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import Tensor, nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_hoyer.models.layers import FoldedSpike

try:
    import nir
except ImportError:  # the deploy extra
    nir = None


def require_nir():
    if nir is None:
        raise ImportError('NIR export needs the deploy extra: pip install -e ".[deploy]" '
                          '(nir, nirtorch, snntorch, norse)')
    return nir


@dataclass
class Value:
    """A tensor of the traced network, as NIR sees it: the sum of the outputs of ``terms``
    (NIR nodes), or a channel concatenation of ``parts``, or a max pool of an analog map
    still to be commuted with the BN and neuron after it (``maxpool``)."""
    terms: List[str]
    shape: Tuple[int, ...]  # (C, H, W)
    binary: bool = False
    parts: Optional[List['Value']] = None
    #: the conv nodes this value is the fresh, sole output of (BN folds into them)
    fresh: Optional[List[str]] = None
    maxpool: Optional[dict] = None


@dataclass
class HostOp:
    """An operation NIR cannot express, run on the host between graph evaluations."""
    name: str
    op: str
    reason: str
    inputs: List[str]  # Output nodes whose values it reads
    output: str  # the Input node its result enters through
    fn: Callable = field(repr=False, default=None)  # (*tensors) -> tensor

    def describe(self) -> dict:
        return dict(name=self.name, op=self.op, reason=self.reason, inputs=self.inputs,
                    output=self.output)


@dataclass
class NIRExport:
    """The graph and what a runner needs beside it."""
    graph: Any  # nir.NIRGraph
    input_shape: Tuple[int, ...]
    outputs: List[str]  # the network's outputs (Output nodes), in order
    host_ops: List[HostOp]
    #: PyTorch spiking layer -> the IF node whose output are its spikes
    spike_nodes: Dict[str, str]
    #: max pools of spikes (their OR): PyTorch module -> IF node
    pool_nodes: Dict[str, str]
    node_meta: Dict[str, dict]

    @property
    def not_exported(self) -> List[dict]:
        return [h.describe() for h in self.host_ops]


class _Tracer(torch.fx.Tracer):
    """``FoldedSpike`` stays one call (a leaf), as Conv2d and BN are; the traced ``owner``
    (see :class:`_Forward`) is traced through as the root."""

    def __init__(self, owner: nn.Module) -> None:
        super().__init__()
        self.owner = owner

    def path_of_module(self, m: nn.Module) -> str:
        return '' if m is self.owner else super().path_of_module(m)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if m is self.owner:
            return False
        return isinstance(m, FoldedSpike) or super().is_leaf_module(m, qualname)


class _Forward(nn.Module):
    """``fn(owner, x)`` as a module whose children are ``owner``'s, so traced layers keep
    their names in ``owner`` (``backbone.stages.0.0.conv``)."""

    def __init__(self, fn: Callable, owner: nn.Module) -> None:
        super().__init__()
        for name, child in owner.named_children():
            self.add_module(name, child)
        object.__setattr__(self, '_owner', owner)  # not a submodule: no 'owner.' prefix
        self.fn = fn

    def forward(self, x: Tensor):
        return self.fn(self._owner, x)


class _ShapeAndConstants(ShapeProp):
    """ShapeProp that also keeps every non-tensor result (shapes, lengths: the traced code's
    own bookkeeping), which the export treats as constants."""

    def run_node(self, n: torch.fx.Node):
        result = super().run_node(n)
        if not isinstance(result, Tensor) and n.op != 'output':
            n.meta['constant'] = result
        return result


def _label(n: torch.fx.Node) -> str:
    """A readable name for a traced operation: the module's path, else the node's name."""
    return n.target if n.op == 'call_module' else n.name


def _pair(v) -> Tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def _diag_weight(scale: np.ndarray, k: Tuple[int, int]) -> np.ndarray:
    """A dense (C, C, kh, kw) weight applying ``scale[c]`` on each window of channel c only."""
    c = scale.shape[0]
    w = np.zeros((c, c, *k), np.float32)
    w[np.arange(c), np.arange(c)] = scale[:, None, None]
    return w


def _conv_out(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


class NIRBuilder:
    """Walks the traced graph and emits NIR nodes (module docstring)."""

    def __init__(self, gm: torch.fx.GraphModule) -> None:
        require_nir()
        self.gm = gm
        self.nodes: 'OrderedDict[str, Any]' = OrderedDict()
        self.edges: List[Tuple[str, str]] = []
        self.meta: Dict[str, dict] = {}
        self.values: Dict[torch.fx.Node, Any] = {}
        self.host_ops: List[HostOp] = []
        self.spike_nodes: Dict[str, str] = {}
        self.pool_nodes: Dict[str, str] = {}

    # ------------------------------------------------------------------ emitting
    def _name(self, base: str) -> str:
        base = base.replace('/', '.')
        name, i = base, 1
        while name in self.nodes:
            i += 1
            name = f'{base}.{i}'
        return name

    def add(self, base: str, node, sources: Sequence[str], role: str, torch_name: str) -> str:
        name = self._name(base)
        node.metadata = dict(role=role, torch_module=torch_name)
        self.nodes[name] = node
        self.meta[name] = dict(role=role, torch_module=torch_name)
        self.edges += [(s, name) for s in sources]
        return name

    def conv(self, base, weight, bias, shape_in, stride=1, padding=0, dilation=1,
             sources=(), role='conv', torch_name='') -> str:
        node = nir.Conv2d(input_shape=tuple(int(v) for v in shape_in[1:]), weight=_f32(weight),
                          stride=_pair(stride), padding=_pair(padding),
                          dilation=_pair(dilation), groups=1,
                          bias=_f32(np.zeros(weight.shape[0]) if bias is None else bias))
        return self.add(base, node, sources, role, torch_name)

    def if_node(self, base, threshold: np.ndarray, shape, sources, role, torch_name) -> str:
        thr = _f32(np.broadcast_to(threshold, shape))
        node = nir.IF(r=np.ones(shape, np.float32), v_threshold=thr,
                      v_reset=np.zeros(shape, np.float32))
        return self.add(base, node, sources, role, torch_name)

    # ------------------------------------------------------------------ values
    def shape_of(self, n: torch.fx.Node) -> Tuple[int, ...]:
        return tuple(n.meta['tensor_meta'].shape[1:])

    def materialize(self, v: Value) -> List[str]:
        """Node names whose outputs sum to ``v`` (a concatenation cannot be a sum)."""
        if v.parts is not None or v.maxpool is not None:
            raise NotImplementedError
        return list(v.terms)

    def host(self, n: torch.fx.Node, reason: str, binary: bool = False) -> Value:
        """Leave ``n`` to the host: its tensor inputs leave the graph, its result re-enters."""
        inputs, getters, constants = [], [], {}
        for i, a in enumerate(n.all_input_nodes):
            v = self.values[a]
            if not isinstance(v, Value):  # a constant of the traced module (get_attr)
                constants[a] = v
                continue
            parts = v.parts if v.parts is not None else [v]
            names = []
            for j, part in enumerate(parts):
                if part.maxpool is not None:
                    part = self.flush_maxpool(part)
                out = self._name(f'to_host.{n.name}.{i}' + (f'.{j}' if len(parts) > 1 else ''))
                self.nodes[out] = nir.Output(output_type={'output': np.array(part.shape)})
                self.meta[out] = dict(role='to_host', torch_module=n.name)
                self.edges += [(s, out) for s in self.materialize(part)]
                names.append(out)
            inputs += names
            getters.append((a, names))
        out_name = self._name(f'from_host.{n.name}')
        shape = self.shape_of(n)
        self.nodes[out_name] = nir.Input(input_type={'input': np.array(shape)})
        self.meta[out_name] = dict(role='from_host', torch_module=n.name)

        def fn(values: Dict[str, Tensor], n=n, getters=getters, constants=constants) -> Tensor:
            env = {a: (values[names[0]] if len(names) == 1 else
                       torch.cat([values[x] for x in names], 1)) for a, names in getters}
            env.update(constants)
            args = torch.fx.node.map_arg(n.args, lambda a: env[a])
            kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: env[a])
            target = self.gm.get_submodule(n.target) if n.op == 'call_module' else n.target
            if n.op == 'call_method':
                return getattr(args[0], n.target)(*args[1:], **kwargs)
            return target(*args, **kwargs)

        self.host_ops.append(HostOp(name=n.name, op=self.describe(n), reason=reason,
                                    inputs=inputs, output=out_name, fn=fn))
        return Value([out_name], shape, binary=binary)

    def describe(self, n: torch.fx.Node) -> str:
        if n.op == 'call_module':
            m = self.gm.get_submodule(n.target)
            return f'{n.target} ({type(m).__name__}: {m.extra_repr()})'
        if n.op == 'call_function':
            kw = ', '.join(f'{k}={v}' for k, v in n.kwargs.items() if not isinstance(v, torch.fx.Node))
            return f'{getattr(n.target, "__name__", str(n.target))}({kw})'
        return f'{n.op} {n.target}'

    # ------------------------------------------------------------------ rules
    def on_conv(self, n, m: nn.Conv2d, v: Value) -> Value:
        if m.groups != 1 or m.padding_mode != 'zeros' or isinstance(m.padding, str):
            return self.host(n, f'a conv with groups={m.groups}, padding {m.padding!r} '
                             f'({m.padding_mode}) is not mapped (only groups=1, zero padding)')
        w = m.weight.detach().float().numpy()
        b = None if m.bias is None else m.bias.detach().float().numpy()
        parts = v.parts if v.parts is not None else [v]
        made, off = [], 0
        for i, part in enumerate(parts):
            c = part.shape[0]
            src = self.materialize(part)
            made.append(self.conv(n.target if len(parts) == 1 else f'{n.target}.in{i}',
                                  w[:, off:off + c], b if i == 0 else None, part.shape,
                                  m.stride, m.padding, m.dilation, src, 'conv', n.target))
            self.meta[made[-1]]['in_offset'] = off  # its input channels in the PyTorch conv
            off += c
        return Value(made, self.shape_of(n), fresh=made if len(n.users) == 1 else None)

    def on_bn(self, n, m: _BatchNorm, v: Value) -> Value:
        if not m.track_running_stats or m.running_var is None:
            return self.host(n, 'a BatchNorm without running statistics (batch statistics '
                             'at inference)')
        var = m.running_var.detach().double().numpy()
        mean = m.running_mean.detach().double().numpy()
        gamma = m.weight.detach().double().numpy() if m.affine else np.ones_like(var)
        beta = m.bias.detach().double().numpy() if m.affine else np.zeros_like(var)
        a = gamma / np.sqrt(var + m.eps)
        b = beta - mean * a
        if v.maxpool is not None:  # fold before the pool; the sign decides OR or AND later
            pre = self.apply_bn(v.maxpool['pre'], a, b, n.target, exclusive=v.fresh is not None)
            return Value([], v.shape, maxpool=dict(v.maxpool, pre=pre,
                                                   sign=np.sign(a) * v.maxpool['sign']),
                         fresh=v.fresh)
        if v.parts is not None:
            parts, off = [], 0
            for part in v.parts:
                c = part.shape[0]
                parts.append(self.apply_bn(part, a[off:off + c], b[off:off + c], n.target,
                                           exclusive=False))
                off += c
            return Value([], self.shape_of(n), parts=parts)
        return self.apply_bn(v, a, b, n.target, exclusive=v.fresh is not None)

    def apply_bn(self, v: Value, a: np.ndarray, b: np.ndarray, torch_name: str,
                 exclusive: bool) -> Value:
        if exclusive and v.fresh:  # fold into the conv(s) that made v
            for i, name in enumerate(v.fresh):
                node = self.nodes[name]
                node.weight = _f32(node.weight.astype(np.float64) * a[:, None, None, None])
                bias = node.bias.astype(np.float64) * a + (b if i == 0 else 0.0)
                node.bias = _f32(bias)
                self.meta[name]['folded_bn'] = torch_name
                node.metadata['folded_bn'] = torch_name
            return Value(list(v.terms), v.shape)
        name = self.conv(f'{torch_name}', _diag_weight(a.astype(np.float32), (1, 1)), b,
                         v.shape, sources=self.materialize(v), role='bn', torch_name=torch_name)
        return Value([name], v.shape, fresh=[name])

    def on_spike(self, n, m: FoldedSpike, v: Value) -> Value:
        thr = m.firing_threshold.detach().float()
        below = torch.nextafter(thr, torch.full_like(thr, -float('inf'))).numpy()
        c = v.shape[0]
        thr_c = np.broadcast_to(below.reshape(-1, 1, 1) if below.size > 1 else below,
                                (c, 1, 1))
        if v.maxpool is not None:
            return self.spike_then_pool(n, v, thr_c)
        if v.parts is not None:
            return self.host(n, 'a neuron on a channel concatenation')
        name = self.if_node(n.target, thr_c, v.shape, self.materialize(v), 'spike', n.target)
        self.spike_nodes[n.target] = name
        return Value([name], v.shape, binary=True)

    def pool_params(self, n, m=None):
        if m is not None:
            k, s, p, d = m.kernel_size, m.stride, m.padding, getattr(m, 'dilation', 1)
            ceil = m.ceil_mode
        else:  # F.max_pool2d / F.avg_pool2d
            sig = dict(zip(('input', 'kernel_size', 'stride', 'padding', 'dilation',
                            'ceil_mode'), n.args))
            sig.update(n.kwargs)
            k = sig['kernel_size']
            s = sig.get('stride') or k
            p, d, ceil = sig.get('padding', 0), sig.get('dilation', 1), sig.get('ceil_mode', False)
        return _pair(k), _pair(s), _pair(p), _pair(d), ceil

    def check_pool_geometry(self, n, v: Value, k, s, p, d) -> Optional[str]:
        out = self.shape_of(n)
        conv_hw = tuple(_conv_out(v.shape[1 + i], k[i], s[i], p[i], d[i]) for i in range(2))
        if tuple(out[1:]) != conv_hw:
            return (f'its ceil-mode rounding gives {tuple(out[1:])} where a convolution with '
                    f'the same window gives {conv_hw} (odd map size)')
        if d != (1, 1):
            return f'a dilated pool (dilation {d})'
        return None

    def on_maxpool(self, n, m, v: Value) -> Value:
        k, s, p, d, _ = self.pool_params(n, m)
        why = self.check_pool_geometry(n, v, k, s, p, d)
        if why:
            return self.host(n, f'max pool: {why}', binary=v.binary)
        if v.binary and v.parts is None and v.maxpool is None:  # OR of the spikes
            c = v.shape[0]
            conv = self.conv(f'{_label(n)}.sum', _diag_weight(np.ones(c, np.float32), k),
                             None, v.shape, s, p, 1, self.materialize(v), 'pool_sum',
                             _label(n))
            name = self.if_node(f'{_label(n)}', np.float32(0.5), self.shape_of(n),
                                [conv], 'pool_or', _label(n))
            self.pool_nodes[_label(n)] = name
            return Value([name], self.shape_of(n), binary=True)
        if v.parts is None and v.maxpool is None and self.commutes(n):
            return Value([], self.shape_of(n), maxpool=dict(
                pre=v, k=k, s=s, p=p, torch_name=_label(n),
                sign=np.ones(v.shape[0])), fresh=v.fresh if len(n.users) == 1 else None)
        return self.host(n, 'max pool of an analog map that does not go straight into a '
                         'neuron (e.g. pooled and then summed with a membrane stream: '
                         "pool_on='pre_activation'); NIR has no max pool of analog values "
                         "(HoyerVGG/HoyerSSDVGG pool_on='spikes' is exact)")

    def commutes(self, pool: torch.fx.Node) -> bool:
        """Every use of the pooled map is ``[BN →] neuron`` with nothing else in between."""
        for u in pool.users:
            if u.op == 'call_module' and isinstance(self.gm.get_submodule(u.target), _BatchNorm):
                if len(u.users) != 1:
                    return False
                u = next(iter(u.users))
            if not (u.op == 'call_module' and
                    isinstance(self.gm.get_submodule(u.target), FoldedSpike)):
                return False
        return True

    def flush_maxpool(self, v: Value) -> Value:  # only reached through host(): not exact
        raise NotImplementedError('a commuted max pool must end in a neuron')

    def spike_then_pool(self, n, v: Value, thr_c: np.ndarray) -> Value:
        """Neuron first, then the pool as a window sum and a neuron with one threshold,
        -0.5: OR channels (BN's scale ≥ 0: the max commutes) get the sum − 1, AND channels
        (scale < 0: the max becomes a min) the sum − the number of the window's positions
        inside the map (max pool's −∞ padding ignores the rest), a constant map made by two
        convs from a constant 1. Integer sums: exact. One threshold per node, as snnTorch's
        importer requires."""
        mp = v.maxpool
        pre = mp['pre']
        full = self.if_node(f'{n.target}.unpooled', thr_c, pre.shape, self.materialize(pre),
                            'spike_unpooled', n.target)
        c = pre.shape[0]
        is_and = mp['sign'] < 0
        pool = mp['torch_name']
        conv = self.conv(f'{pool}.sum', _diag_weight(np.ones(c, np.float32), mp['k']),
                         np.where(is_and, 0.0, -1.0), pre.shape, mp['s'], mp['p'], 1, [full],
                         'pool_sum', pool)
        sources = [conv]
        if is_and.any():
            ones = self.conv(f'{pool}.one', np.zeros((1, c, 1, 1), np.float32), np.ones(1),
                             pre.shape, sources=[full], role='pool_count', torch_name=pool)
            w = np.where(is_and, -1.0, 0.0)[:, None, None, None] * np.ones((c, 1, *mp['k']))
            sources.append(self.conv(f'{pool}.count', w, None, (1, *pre.shape[1:]), mp['s'],
                                     mp['p'], 1, [ones], 'pool_count', pool))
        name = self.if_node(n.target, np.float32(-0.5), self.shape_of(n), sources,
                            'spike_pooled', n.target)
        self.spike_nodes[n.target] = name
        return Value([name], self.shape_of(n), binary=True)

    def on_avgpool(self, n, m, v: Value) -> Value:
        k, s, p, d, _ = self.pool_params(n, m)
        why = self.check_pool_geometry(n, v, k, s, p, d)
        include_pad = getattr(m, 'count_include_pad', True) if m is not None else \
            n.kwargs.get('count_include_pad', True)
        divisor = getattr(m, 'divisor_override', None) if m is not None else \
            n.kwargs.get('divisor_override')
        if why or (p != (0, 0) and not include_pad) or v.maxpool is not None:
            return self.host(n, f'average pool: {why or "padding not counted in the mean"}')
        c = v.shape[0]
        scale = np.full(c, 1.0 / (divisor or k[0] * k[1]), np.float32)
        parts = v.parts if v.parts is not None else [v]
        if len(parts) > 1:
            return self.host(n, 'an average pool of a channel concatenation')
        name = self.conv(_label(n), _diag_weight(scale, k), None, v.shape, s, p, 1,
                         self.materialize(v), 'pool_avg', _label(n))
        return Value([name], self.shape_of(n))

    def on_pad(self, n, v, pad) -> Value:
        """Zero-padding of the channel dim only (``F.pad(x, (0, 0, 0, 0, 0, k))``): a 1×1
        conv with the weight ``[I; 0]``."""
        pad = tuple(pad) if isinstance(pad, (list, tuple)) else None
        mode, value = n.kwargs.get('mode', 'constant'), n.kwargs.get('value', None)
        if not isinstance(v, Value) or pad is None or len(pad) != 6 or pad[:5] != (0,) * 5 or \
                mode != 'constant' or value not in (None, 0, 0.0) or v.parts is not None or \
                v.maxpool is not None:
            return self.host(n, 'padding other than zeros appended to the channels')
        c = v.shape[0]
        weight = np.zeros((c + pad[5], c, 1, 1), np.float32)
        weight[np.arange(c), np.arange(c), 0, 0] = 1.0
        name = self.conv(_label(n), weight, None, v.shape, 1, 0, 1, self.materialize(v),
                         'pad_channels', _label(n))
        return Value([name], self.shape_of(n), binary=v.binary)

    def on_add(self, n, a, b) -> Value:
        if not (isinstance(a, Value) and isinstance(b, Value)) or a.shape != b.shape or \
                a.parts is not None or b.parts is not None or a.maxpool is not None or \
                b.maxpool is not None:
            return self.host(n, 'a sum that is not of two maps of the same shape')
        return Value(a.terms + b.terms, a.shape)

    def on_cat(self, n, values, dim) -> Value:
        if dim not in (1, -3) or not all(isinstance(v, Value) for v in values):
            return self.host(n, f'concatenation along dim {dim} (only channels are split)')
        parts = [p for v in values for p in (v.parts if v.parts is not None else [v])]
        return Value([], self.shape_of(n), binary=all(p.binary for p in parts), parts=parts)

    # ------------------------------------------------------------------ walk
    def run(self, input_shape: Tuple[int, ...]) -> Dict[str, List]:
        outputs = None
        for n in self.gm.graph.nodes:
            if n.op == 'placeholder':
                self.nodes['input'] = nir.Input(input_type={'input': np.array(input_shape)})
                self.meta['input'] = dict(role='input', torch_module='')
                self.values[n] = Value(['input'], tuple(input_shape))
            elif n.op == 'get_attr':
                self.values[n] = getattr(self.gm, n.target)
            elif n.op == 'output':
                outputs = n.args[0]
            else:
                self.values[n] = self.visit(n)
        return outputs

    def visit(self, n: torch.fx.Node):
        if 'constant' in n.meta and 'tensor_meta' not in n.meta:
            return n.meta['constant']  # a shape, a length: fixed at export
        args = torch.fx.node.map_arg(n.args, lambda a: self.values[a])
        if n.op == 'call_module':
            m = self.gm.get_submodule(n.target)
            v = args[0] if args else None
            if isinstance(m, nn.Identity):
                return v
            if not isinstance(v, Value):
                return self.host(n, f'{type(m).__name__} on a non-tensor input')
            if isinstance(m, nn.Conv2d):
                return self.on_conv(n, m, v)
            if isinstance(m, _BatchNorm):
                return self.on_bn(n, m, v)
            if isinstance(m, FoldedSpike):
                return self.on_spike(n, m, v)
            if isinstance(m, nn.MaxPool2d):
                return self.on_maxpool(n, m, v)
            if isinstance(m, nn.AvgPool2d):
                return self.on_avgpool(n, m, v)
            return self.host(n, f'{type(m).__name__} has no NIR counterpart')
        if n.op == 'call_function':
            t = n.target
            if t in (operator.add, torch.add) and len(args) == 2:
                return self.on_add(n, *args)
            if t is torch.cat:
                return self.on_cat(n, args[0], n.kwargs.get('dim', args[1] if len(args) > 1
                                                             else 0))
            if t is operator.getitem and isinstance(args[0], (list, tuple)):
                return args[0][args[1]]
            if t is F.pad and len(args) >= 2:
                return self.on_pad(n, args[0], args[1])
            if t is F.max_pool2d:
                return self.on_maxpool(n, None, args[0])
            if t is F.avg_pool2d:
                return self.on_avgpool(n, None, args[0])
            if t is F.interpolate:
                binary = isinstance(args[0], Value) and args[0].binary and \
                    n.kwargs.get('mode', 'nearest') == 'nearest'
                return self.host(n, 'upsampling: NIR 1.0 has no upsampling (or transposed '
                                 'convolution) node', binary=binary)
        return self.host(n, f'{self.describe(n)} has no NIR counterpart')


def flatten_outputs(outputs, names: Sequence[str]) -> List[Tuple[str, Any]]:
    """``(name, value)`` of a (nested) output structure, in order."""
    flat = []

    def walk(o):
        if isinstance(o, (list, tuple)):
            for x in o:
                walk(x)
        else:
            flat.append(o)

    walk(outputs)
    if len(flat) != len(names):
        raise ValueError(f'{len(flat)} outputs, {len(names)} names')
    return list(zip(names, flat))


def export_nir(module: nn.Module, forward: Callable, inputs: Tensor,
               output_names: Sequence[str], metadata: Optional[dict] = None) -> NIRExport:
    """Trace ``forward(module, x)`` on ``inputs`` and build its NIR graph (module docstring).

    ``module`` holds the folded eval network (``FoldedSpike`` neurons); ``output_names`` names
    the flattened outputs of ``forward`` (one ``Output`` node each)."""
    require_nir()
    wrapped = _Forward(forward, module).eval()
    graph = _Tracer(module).trace(wrapped)
    gm = torch.fx.GraphModule(wrapped, graph)
    with torch.no_grad():
        _ShapeAndConstants(gm).propagate(inputs)
    builder = NIRBuilder(gm)
    outputs = builder.run(tuple(inputs.shape[1:]))
    out_names = []
    for name, node in flatten_outputs(outputs, output_names):
        v = builder.values[node]
        if v.parts is not None or v.maxpool is not None:
            v = builder.host(node, 'an output that is a concatenation')
        builder.nodes[name] = nir.Output(output_type={'output': np.array(v.shape)})
        builder.meta[name] = dict(role='output', torch_module=name)
        builder.edges += [(s, name) for s in v.terms]
        out_names.append(name)
    meta = dict(metadata or {})
    meta['host_ops'] = json.dumps([h.describe() for h in builder.host_ops])
    meta['outputs'] = json.dumps(out_names)
    g = nir.NIRGraph(nodes=dict(builder.nodes), edges=list(builder.edges), metadata=meta)
    return NIRExport(graph=g, input_shape=tuple(inputs.shape[1:]), outputs=out_names,
                     host_ops=builder.host_ops, spike_nodes=builder.spike_nodes,
                     pool_nodes=builder.pool_nodes, node_meta=builder.meta)


def node_inputs(graph) -> Dict[str, List[str]]:
    """For each node, the nodes whose outputs it sums (in edge order)."""
    ins: Dict[str, List[str]] = {name: [] for name in graph.nodes}
    for src, dst in graph.edges:
        ins[dst].append(src)
    return ins
