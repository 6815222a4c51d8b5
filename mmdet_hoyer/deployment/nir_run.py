"""Run an exported NIR graph in independent SNN simulators, one time step.

A *consumer* turns each NIR node into its own PyTorch module through its public NIR importer:
snnTorch 1.0 (``snntorch.import_nir.import_from_nir``: ``Conv2d`` → ``torch.nn.Conv2d``,
``IF`` → ``snn.Leaky``), Norse 1.1 (``norse.torch.from_nir``: ``IF`` → ``IAFCell``) and, as a
plain reference, nirtorch 2.6 (``nirtorch.nir_to_torch`` with its default map and a bare
``v > v_threshold`` for ``IF``). Every node is imported on its own (a one-node graph) and the
module taken out, so the spike rule, the threshold comparison, the initial membrane and the
convolution are the consumer's.

:class:`GraphRunner` then executes the whole graph: each node receives the sum of its inputs
(NIR's rule), ``Output`` nodes named ``to_host.*`` feed the host operations of the export and
their results enter through their ``Input`` nodes. The consumers' own graph executors are not
used: both libraries build on nirtorch, whose GraphModule takes one ``Input`` and one ``Output``
node (with two ``Output`` nodes its construction never ends), snnTorch's executor hands an
``IF``'s (spikes, membrane) tuple to the next node, and Norse's ``GraphExecutor`` can run a
node before one of the nodes it sums (both seen with nirtorch 2.6, docs/guides/deployment.md).
"""
import contextlib
import io
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .nir_graph import NIRExport, node_inputs, require_nir

CONSUMERS = ('snntorch', 'norse', 'nirtorch')


class _IFStep(nn.Module):
    """NIR's IF for one step from ``v = 0`` with ``r = 1``: ``v > v_threshold``."""

    def __init__(self, v_threshold: np.ndarray) -> None:
        super().__init__()
        self.register_buffer('v_threshold', torch.from_numpy(np.asarray(v_threshold,
                                                                        np.float32)))

    def forward(self, x: Tensor) -> Tensor:
        return (x > self.v_threshold).to(x.dtype)


def _one_node_graph(name: str, node):
    nir = require_nir()
    return nir.NIRGraph(
        nodes={'input': nir.Input(input_type={'input': np.array(node.input_type['input'])}),
               name: node,
               'output': nir.Output(output_type={'output': np.array(node.output_type['output'])})},
        edges=[('input', name), (name, 'output')])


def _importer(consumer: str) -> Callable:
    nir = require_nir()
    if consumer == 'snntorch':
        from snntorch.import_nir import import_from_nir
        return import_from_nir
    if consumer == 'norse':
        from norse.torch import from_nir
        return lambda g: from_nir(g, ignore_warnings=True)
    if consumer == 'nirtorch':
        import nirtorch
        return lambda g: nirtorch.nir_to_torch(g, {nir.IF: lambda n: _IFStep(n.v_threshold)})
    raise ValueError(f'consumer must be one of {CONSUMERS}, got {consumer!r}')


def unsupported_nodes(graph, consumer: str) -> List[str]:
    """Nodes ``consumer``'s importer cannot take, each with the reason (checked before
    importing: snnTorch asserts one threshold per IF node)."""
    nir = require_nir()
    bad = []
    for name, node in graph.nodes.items():
        if consumer == 'snntorch' and isinstance(node, nir.IF) and \
                np.unique(node.v_threshold).size > 1:
            bad.append(f'{name}: IF with per-neuron thresholds (snnTorch\'s importer takes one '
                       'threshold per IF node)')
    return bad


def consumer_modules(graph, consumer: str) -> Dict[str, nn.Module]:
    """Each node of ``graph`` (but ``Input``/``Output``) as ``consumer``'s module."""
    nir = require_nir()
    bad = unsupported_nodes(graph, consumer)
    if bad:
        raise ValueError(f'{consumer} cannot take {len(bad)} node(s): ' + '; '.join(bad[:3]))
    importer = _importer(consumer)
    modules = {}
    for name, node in graph.nodes.items():
        if isinstance(node, (nir.Input, nir.Output)):
            continue
        with contextlib.redirect_stdout(io.StringIO()):  # snnTorch prints while importing
            imported = importer(_one_node_graph('node', node))
        subs = dict(imported.named_modules())
        if 'node' not in subs:
            raise ValueError(f'{consumer}: importing {name} ({type(node).__name__}) gave no '
                             'module')
        modules[name] = subs['node'].eval()
    return modules


class GraphRunner:
    """One-step execution of an exported graph with ``consumer``'s node modules (module
    docstring). ``__call__(x)`` returns every node's output (spike maps, head outputs)."""

    def __init__(self, export: NIRExport, consumer: str) -> None:
        self.export, self.consumer = export, consumer
        self.graph = export.graph
        self.modules = consumer_modules(self.graph, consumer)
        self.inputs = node_inputs(self.graph)
        self.order = self._order()

    def _order(self) -> List[str]:
        """Topological order, host operations included (an ``Input`` ``from_host.*`` after the
        ``Output`` nodes its operation reads)."""
        deps = {n: set(srcs) for n, srcs in self.inputs.items()}
        for h in self.export.host_ops:
            deps[h.output] = set(h.inputs)
        order, done = [], set()
        pending = list(self.graph.nodes)
        while pending:
            ready = [n for n in pending if deps[n] <= done]
            if not ready:
                raise ValueError(f'the graph has a cycle through {pending[:3]}')
            for n in ready:
                order.append(n)
                done.add(n)
            pending = [n for n in pending if n not in done]
        return order

    def _call(self, name: str, x: Tensor) -> Tensor:
        m = self.modules[name]
        if hasattr(m, 'reset_mem'):  # snnTorch keeps the membrane between calls
            m.reset_mem()
        out = m(x)
        return out[0] if isinstance(out, tuple) else out  # (spikes, state) of the neurons

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Dict[str, Tensor]:
        nir = require_nir()
        host = {h.output: h for h in self.export.host_ops}
        values: Dict[str, Tensor] = {}
        for name in self.order:
            node = self.graph.nodes[name]
            if isinstance(node, nir.Input):
                values[name] = host[name].fn(values) if name in host else x
                continue
            srcs = self.inputs[name]
            total = values[srcs[0]]
            for s in srcs[1:]:
                total = total + values[s]
            values[name] = total if isinstance(node, nir.Output) else self._call(name, total)
        return values

    def outputs(self, values: Dict[str, Tensor]) -> List[Tensor]:
        return [values[n] for n in self.export.outputs]


def run_consumers(export: NIRExport, x: Tensor,
                  consumers: Sequence[str] = CONSUMERS) -> Dict[str, Optional[dict]]:
    """``{consumer: node outputs}`` (None with the reason where it cannot run the graph)."""
    out = {}
    for c in consumers:
        try:
            out[c] = dict(values=GraphRunner(export, c)(x))
        except (ValueError, AssertionError, ImportError) as e:
            out[c] = dict(error=f'{type(e).__name__}: {e}')
    return out
