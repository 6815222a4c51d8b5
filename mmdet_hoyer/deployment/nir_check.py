"""Check a NIR export in each consumer against PyTorch, and count its synaptic operations.

The comparison is the ONNX check's (:mod:`.onnx_check`): exact layer by layer. PyTorch re-runs
the detector with every spiking layer's output replaced by the consumer's spike map ("forced"
run); every consumer spike must equal PyTorch's ``1[z ≥ T]`` for the ``z`` PyTorch computes
from the same upstream spikes (except within ``tie_tol`` of ``T``: a reordered float sum), the
raw head outputs must match within float tolerance and MMDetection's ``predict_by_feat`` must
give the same boxes. The max pools of spikes the graph holds as sum-and-threshold nodes are
compared with PyTorch's pools the same way.

Operations are counted on the graph as a chip would execute them: for every ``Conv2d`` node
and every edge into it, a binary source (an ``IF`` node, a binary host input) costs its
non-zero values × the node's fan-out (MACs per input element) accumulates; the analog sources
(NIR sums a node's input edges) make one dense input, whose elements × fan-out MACs count once
(a conv split per input, as a bridge conv reading a concatenation, feeds its next conv two
analog edges). Grouped by the PyTorch layer each node came from, they are set
beside ``spike_stats.py``'s count (MACs × input firing rate) on the same images, with
PyTorch's spiking layers forced to the consumer's spikes (a spike that flips at a threshold tie
would otherwise change both counts apart, and every later layer's with it); the graph's
extra sums (pooling as synaptic sums, a stand-alone BN) are listed apart.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from mmdet_hoyer.analysis.operations import AC_PJ, MAC_PJ, InputSpikeRecorder, dense_macs
from .exportable_detector import ExportableDetector
from .nir_graph import NIRExport, node_inputs, require_nir
from .nir_run import GraphRunner
from .onnx_check import _run, compare_detections, compare_spikes, forcing_spikes


def forced_run(wrapper: ExportableDetector, inputs: Tensor, export: NIRExport,
               values: Dict[str, Tensor]):
    """PyTorch with each spiking layer's output forced to the consumer's (see module
    docstring); also records the outputs of the max pools the graph holds as OR nodes."""
    forced = [values[export.spike_nodes[n]].numpy() for n in wrapper.spiking_layers]
    pools, handles = {}, []
    for name in export.pool_nodes:
        try:
            module = wrapper.detector.get_submodule(name)
        except AttributeError:  # a functional pool: nothing to hook
            continue
        handles.append(module.register_forward_hook(
            lambda m, a, o, name=name: pools.setdefault(name, []).append(o.detach())))
    try:
        outs, zs = _run(wrapper, inputs, forced)
    finally:
        for h in handles:
            h.remove()
    return outs, zs, pools


def check_consumer(model: nn.Module, wrapper: ExportableDetector, export: NIRExport,
                   consumer: str, inputs: Tensor, data_samples: List, rtol: float = 1e-3,
                   atol: float = 1e-4, tie_tol: float = 1e-4) -> Dict:
    """Run ``export`` in ``consumer`` on ``inputs`` and compare with PyTorch."""
    runner = GraphRunner(export, consumer)
    values = runner(inputs)
    n_head = sum(wrapper.levels)
    outs, zs, pools = forced_run(wrapper, inputs, export, values)
    free_outs, _ = _run(wrapper, inputs)
    consumer_spikes = [values[export.spike_nodes[n]].numpy() for n in wrapper.spiking_layers]
    thresholds = [wrapper.detector.get_submodule(n).firing_threshold
                  for n in wrapper.spiking_layers]
    spikes = compare_spikes(consumer_spikes, outs[n_head:], zs, thresholds,
                            wrapper.spiking_layers, tie_tol)
    pool_diff = {}
    for name, node in export.pool_nodes.items():
        mine = values[node]
        theirs = [p for p in pools.get(name, []) if p.shape == mine.shape]
        if theirs:  # the OR of the consumer's spikes against PyTorch's max pool of them
            pool_diff[name] = int((mine != theirs[0]).sum())
    head_outs = runner.outputs(values)
    head = []
    for name, o, t, f in zip(export.outputs, head_outs, outs[:n_head], free_outs[:n_head]):
        err = (o - t).abs()
        head.append(dict(name=name, shape=list(o.shape), max_abs_diff=float(err.max()),
                         free_running_max_abs_diff=float((o - f).abs().max()),
                         ok=bool((err <= atol + rtol * t.abs()).all())))
    metas = [s.metainfo for s in data_samples]
    groups, _ = wrapper.split_outputs(list(head_outs))
    forced_groups, _ = wrapper.split_outputs(list(outs[:n_head]))
    dets = model.bbox_head.predict_by_feat(*groups, batch_img_metas=metas, rescale=True)
    forced_dets = model.bbox_head.predict_by_feat(*forced_groups, batch_img_metas=metas,
                                                  rescale=True)
    free_groups, _ = wrapper.split_outputs(list(free_outs[:n_head]))
    free_dets = model.bbox_head.predict_by_feat(*free_groups, batch_img_metas=metas,
                                                rescale=True)
    detections = compare_detections(dets, forced_dets)
    flips = int(sum((c != t.numpy()).sum() for c, t in zip(consumer_spikes,
                                                             free_outs[n_head:])))
    ok = all(h['ok'] for h in head) and detections['same'] and spikes['binary'] and \
        spikes['non_tie_mismatches'] == 0 and not any(pool_diff.values())
    return dict(ok=ok, consumer=consumer, head=head, spikes=spikes, pools=pool_diff,
                detections=detections,
                free_running=dict(spike_flips=flips,
                                  detections=compare_detections(dets, free_dets)),
                values=values)


# ---------------------------------------------------------------- operations
def graph_operations(export: NIRExport, values: Dict[str, Tensor], num_images: int) -> Dict:
    """Per-image ACs and MACs of the graph's ``Conv2d`` nodes, per edge (module docstring),
    grouped by the PyTorch layer (``role='conv'``) or listed apart (pools, BN)."""
    nir = require_nir()
    ins = node_inputs(export.graph)
    binary = {name: isinstance(node, nir.IF) for name, node in export.graph.nodes.items()}
    for h in export.host_ops:  # a host result is binary when its values are
        v = values[h.output]
        binary[h.output] = bool(((v == 0) | (v == 1)).all())
    layers: Dict[str, Dict[str, float]] = OrderedDict()
    extra: Dict[str, Dict[str, float]] = OrderedDict()
    for name, node in export.graph.nodes.items():
        if not isinstance(node, nir.Conv2d):
            continue
        w = node.weight
        out = values[name]
        meta = export.node_meta[name]
        # weights per output element: a layer's conv uses them all; a pooling sum or a
        # stand-alone BN is written as a dense block-diagonal conv, whose zeros cost nothing
        per_out = w[0].size if meta['role'] == 'conv' else np.count_nonzero(w) / w.shape[0]
        macs = float(out[0].numel()) * per_out  # per image
        bucket = layers if meta['role'] == 'conv' else extra
        row = bucket.setdefault(meta['torch_module'] if meta['role'] == 'conv' else name,
                                dict(acs=0.0, macs=0.0, dense_macs=0.0, role=meta['role']))
        analog = False
        for src in ins[name]:
            x = values[src]
            fan_out = macs / x[0].numel()  # MACs per input element
            if binary[src]:
                row['acs'] += float(torch.count_nonzero(x)) / num_images * fan_out
            else:
                analog = True
        if analog:  # the analog edges sum into one dense input: its MACs once
            row['macs'] += macs
        row['dense_macs'] += macs
    total = lambda rows, k: sum(r[k] for r in rows.values())  # noqa: E731
    return dict(layers=layers, extra=extra,
                snn=dict(acs=total(layers, 'acs'), macs=total(layers, 'macs'),
                         energy_pj=total(layers, 'acs') * AC_PJ + total(layers, 'macs') * MAC_PJ),
                extra_total=dict(acs=total(extra, 'acs'), macs=total(extra, 'macs')))


def torch_operations(wrapper: ExportableDetector, inputs: Tensor,
                     forced: Optional[Sequence[Tensor]] = None) -> Dict[str, dict]:
    """``spike_stats.py``'s count on the same images: per dense layer, MACs × the fraction of
    its input that is non-zero when the input is binary, else MACs. With ``forced`` (one spike
    map per spiking layer, definition order: the consumer's), each spiking layer's output is
    replaced by it, so a spike that differs at a threshold tie counts alike on both sides."""
    det = wrapper.detector
    macs = {k: v / inputs.shape[0] for k, v in
            dense_macs(det, (inputs, )).items()}  # det(x) is mode='tensor'
    with forcing_spikes(wrapper, forced), InputSpikeRecorder(det) as rec, torch.no_grad():
        det(inputs, mode='tensor')
    rates = rec.input_rates()
    return OrderedDict((k, dict(acs=v * rates[k] if rec.binary[k] else 0.0,
                                macs=0.0 if rec.binary[k] else v)) for k, v in macs.items())


def compare_operations(graph_ops: Dict, torch_ops: Dict[str, dict], rtol: float = 1e-3) -> Dict:
    """The graph's counts against PyTorch's, layer by layer and in total."""
    rows, worst = [], 0.0
    for name, t in torch_ops.items():
        g = graph_ops['layers'].get(name, dict(acs=0.0, macs=0.0))
        for k in ('acs', 'macs'):
            ref = t[k]
            err = abs(g[k] - ref) / max(ref, 1.0)
            worst = max(worst, err)
        rows.append(dict(name=name, graph_acs=g['acs'], torch_acs=t['acs'],
                         graph_macs=g['macs'], torch_macs=t['macs']))
    tot = {k: sum(t[k] for t in torch_ops.values()) for k in ('acs', 'macs')}
    missing = [n for n in graph_ops['layers'] if n not in torch_ops]
    return dict(layers=rows, max_rel_diff=worst, ok=worst <= rtol and not missing,
                missing_in_torch=missing,
                graph=dict(acs=graph_ops['snn']['acs'], macs=graph_ops['snn']['macs']),
                torch=tot)


def consumers_report(model, wrapper, export, inputs, data_samples,
                     consumers: Sequence[str]) -> Dict:
    """:func:`check_consumer` for each consumer (or the reason it cannot run the graph), and
    the operation counts of the first that ran, against PyTorch's."""
    out, ops = OrderedDict(), None
    for c in consumers:
        try:
            res = check_consumer(model, wrapper, export, c, inputs, data_samples)
        except (ValueError, AssertionError, ImportError) as e:
            out[c] = dict(ok=False, consumer=c, error=f'{type(e).__name__}: {e}')
            continue
        values = res.pop('values')
        if ops is None:
            graph_ops = graph_operations(export, values, inputs.shape[0])
            forced = [values[export.spike_nodes[n]] for n in wrapper.spiking_layers]
            ops = dict(consumer=c, **compare_operations(
                graph_ops, torch_operations(wrapper, inputs, forced)),
                extra=graph_ops['extra_total'])
        out[c] = res
    return dict(consumers=out, operations=ops)


__all__ = ['check_consumer', 'compare_operations', 'consumers_report', 'graph_operations',
           'torch_operations']
