"""Export a trained spiking detector to NIR and run it in independent SNN simulators.

    python tools/deployment/export_nir.py CONFIG CHECKPOINT --out model.nir \
        [--images a.jpg b.jpg | --num-images 2] [--consumers snntorch norse nirtorch]
        [--eval] [--eval-consumer snntorch] [--report report.json] [--int8-weights]

The graph (NIR 1.0, ``nir.write``) goes from the preprocessed image batch (the data
preprocessor's output, a fixed height and width) to the dense head's raw outputs, one
``Output`` node each; every spiking layer is an ``IF`` node named after it. Rewrites are exact
(BN folded into convs, thresholds chosen so that NIR's ``v > θ`` fires exactly where the
project's ``u ≥ 1`` does, membrane shortcuts as several edges into one node, max pools of
spikes as OR nodes, concatenations as split convs); what NIR cannot hold runs on the host and
is listed as NOT EXPORTED (mmdet_hoyer/deployment/nir_graph.py). For a two-stage detector
(Faster R-CNN) the backbone and neck are exported, the RPN and RoI heads stay on the host.

Each consumer (snnTorch 1.0, Norse 1.1, nirtorch 2.6 with a plain node map) imports every node
with its own NIR importer and runs the graph for one step; the check compares its spikes with
PyTorch's layer by layer, its head outputs, its boxes after MMDetection's ``predict_by_feat``,
and counts the graph's synaptic operations against ``spike_stats.py``'s. ``--eval`` runs the
config's metric on a consumer's outputs. ``--int8-weights`` writes integer weights (8 bits,
one scale per output channel shared by the convs summed into one neuron, folded into the
neurons' biases and thresholds: mmdet_hoyer/deployment/nir_int8.py); the check and ``--eval``
then compare with, and score, the PyTorch model quantized to the same weights. Needs the
deploy extra: ``pip install -e ".[deploy]"``.
"""
import copy
import json
import sys
from collections import Counter

import torch

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.deployment import ExportableDetector, ExportError
from mmdet_hoyer.deployment.graph_metadata import graph_metadata
from mmdet_hoyer.deployment.nir_run import CONSUMERS
from mmdet_hoyer.utils.cli import export_parser, load_export_args


def parse_args(argv=None):
    p = export_parser('Export a spiking detector to NIR, check it in SNN simulators', '.nir')
    p.add_argument('--consumers', nargs='+', default=list(CONSUMERS), choices=CONSUMERS)
    p.add_argument('--eval-consumer', choices=CONSUMERS,
                   help='the consumer --eval runs (default: the first of --consumers)')
    p.add_argument('--int8-weights', action='store_true',
                   help='integer (8-bit) weights, their per-channel scales folded into the '
                   'neurons; the check compares with the PyTorch model quantized alike')
    return p.parse_args(argv)


class ExportableFeatures(ExportableDetector):
    """The backbone and neck of a (two-stage) detector: ``forward`` returns the feature maps
    (``feats.0`` ...) and, with ``with_spikes``, every spike map."""

    def __init__(self, detector) -> None:  # noqa: D107  (no single-stage check)
        torch.nn.Module.__init__(self)
        from mmdet_hoyer.deployment.exportable_detector import fold_neurons
        self.detector = copy.deepcopy(detector).eval()
        self.spiking_layers = fold_neurons(self.detector)
        self.with_spikes, self.groups, self._spikes, self.levels = True, ['feats'], {}, ()
        for name in self.spiking_layers:
            self.detector.get_submodule(name).register_forward_hook(self._recorder(name))

    def forward(self, inputs):
        self._spikes = {}
        try:
            feats = tuple(self.detector.extract_feat(inputs))
            spikes = tuple(self._spikes[n] for n in self.spiking_layers)
        finally:
            self._spikes = {}
        self.levels = (len(feats), )
        return feats + spikes


def _metadata(model, wrapper, inputs, part: str) -> dict:
    return dict(
        graph_metadata(model, wrapper, inputs, 'tools/deployment/export_nir.py',
                       '(3, H, W) float32 per image'), part=part,
        neuron='IF, r = 1, v_reset = 0, one time step from v = 0 (v > v_threshold fires)',
        postprocess='outside the graph: bbox_head.predict_by_feat (decode, score threshold, '
        'NMS)' if part == 'detector' else 'outside the graph: the RPN and RoI heads')


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmdet.models.detectors import SingleStageDetector
    from mmdet_hoyer.deployment.nir_check import consumers_report
    from mmdet_hoyer.deployment.nir_eval import evaluate_nir
    from mmdet_hoyer.deployment.nir_graph import export_nir, require_nir
    from mmdet_hoyer.deployment.nir_int8 import export_nir_int8
    try:
        nir = require_nir()
    except ImportError as e:
        raise SystemExit(f'error: {e}')
    cfg, model, images, inputs, data_samples = load_export_args(args, '.nir')
    single = isinstance(model, SingleStageDetector)
    try:
        wrapper = ExportableDetector(model) if single else ExportableFeatures(model)
    except ExportError as e:
        raise SystemExit(f'error: {e}')
    with torch.no_grad():
        wrapper(inputs)  # the output structure
    n_out = sum(wrapper.levels)
    names = wrapper.output_names[:n_out]
    forward = (lambda d, x: d(x, mode='tensor')) if single else \
        (lambda d, x: d.extract_feat(x))
    part = 'detector' if single else 'backbone+neck'
    metadata = _metadata(model, wrapper, inputs, part)
    if args.int8_weights:
        try:
            export, changes = export_nir_int8(wrapper.detector, forward, inputs, names,
                                              metadata)
        except ExportError as e:
            raise SystemExit(f'error: {e}')
        print(f'int8 weights: {len(changes)} convs quantized (largest weight change '
              f'{max(changes.values(), default=0.0):.3g}); the check compares with the PyTorch '
              'model holding the same weights')
    else:
        export = export_nir(wrapper.detector, forward, inputs, names, metadata=metadata)
    nir.write(args.out, export.graph)
    export.graph = nir.read(args.out)  # the consumers run what was written
    kinds = Counter(type(n).__name__ for n in export.graph.nodes.values())
    print(f'exported {args.out} ({part}): input {tuple(inputs.shape[1:])}, '
          f'{len(export.outputs)} outputs, {len(export.graph.nodes)} nodes '
          f'({", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))}), '
          f'{len(export.graph.edges)} edges; {len(export.spike_nodes)} of '
          f'{len(wrapper.spiking_layers)} spiking layers as IF nodes')
    not_exported = export.not_exported
    if not single:
        not_exported.append(dict(name='rpn_head, roi_head', op=type(model).__name__,
                                 reason='two-stage heads (RoI pooling, proposals) have no NIR '
                                 'counterpart: they run on the host from the exported features',
                                 inputs=names, output=''))
    uses = Counter(h['op'] for h in not_exported)
    for op in uses:  # a module called twice (a stage's pool on its conv and on the stream)
        h = next(x for x in not_exported if x['op'] == op)
        print(f'NOT EXPORTED {op}{f" ({uses[op]} uses)" if uses[op] > 1 else ""}: '
              f'{h["reason"]} -> runs on the host')

    if single:
        report = consumers_report(model, wrapper, export, inputs, data_samples, args.consumers)
    else:
        report = _features_report(wrapper, export, inputs, args.consumers)
    report.update(nir=args.out, part=part, input_shape=list(inputs.shape), outputs=names,
                  nodes=dict(kinds), edges=len(export.graph.edges), images=images,
                  not_exported=not_exported, spike_nodes=export.spike_nodes,
                  int8_weights=bool(args.int8_weights))
    for c, r in report['consumers'].items():
        if 'error' in r:
            print(f'{c}: cannot run the graph: {r["error"]}')
            continue
        s = r['spikes']
        worst = max(h['max_abs_diff'] for h in r['head'])
        line = (f'{c}: spikes {"binary" if s["binary"] else "NOT binary"}, firing rate '
                f'{s["firing_rate"]:.4f}, {s["mismatches"]} of {sum(x["elements"] for x in s["layers"])} '
                f'differ from PyTorch layer by layer ({s["non_tie_mismatches"]} not at a '
                f'threshold tie); outputs max |diff| {worst:.3g}')
        if 'detections' in r:
            d = r['detections']
            line += (f'; detections {"same" if d["same"] else "DIFFERENT"} '
                     f'({d["num_same"]}/{len(d["same_images"])} images)')
        print(line + f' -> {"ok" if r["ok"] else "FAILED"}')
    ops = report.get('operations')
    if ops:
        print(f'operations per image on the graph ({ops["consumer"]}): '
              f'{ops["graph"]["acs"] / 1e6:.2f} M ACs + {ops["graph"]["macs"] / 1e6:.2f} M MACs; '
              f'spike_stats.py on the same images and spikes: {ops["torch"]["acs"] / 1e6:.2f} M ACs + '
              f'{ops["torch"]["macs"] / 1e6:.2f} M MACs (max rel. diff per layer '
              f'{ops["max_rel_diff"]:.2g}); the graph\'s pooling sums add '
              f'{ops["extra"]["acs"] / 1e6:.2f} M ACs + {ops["extra"]["macs"] / 1e6:.2f} M MACs')
    if args.eval and single:
        consumer = args.eval_consumer or next(
            (c for c in args.consumers if 'error' not in report['consumers'][c]), None)
        if consumer is None:
            raise SystemExit('error: --eval: no consumer could run the graph')
        try:
            metrics = evaluate_nir(model, wrapper, export, consumer, cfg)
        except ValueError as e:
            raise SystemExit(f'error: --eval: {e}')
        report['eval'] = dict(consumer=consumer, **{k: float(v) for k, v in metrics.items()
                                                   if isinstance(v, (int, float))})
        print(f'NIR graph in {consumer} on the test set: ' + ', '.join(
            f'{k} {v:.4f}' for k, v in report['eval'].items() if k != 'consumer'))
    ok = all(r.get('ok', False) for r in report['consumers'].values()) and \
        (ops is None or ops['ok'])
    report['ok'] = ok
    if args.report:
        with open(args.report, 'w') as f:
            json.dump(report, f, indent=1, default=str)
    print('check: ' + ('passed' if ok else 'FAILED'))
    return 0 if ok else 1


def _features_report(wrapper, export, inputs, consumers) -> dict:
    """Spikes and feature maps of each consumer against PyTorch (forced run), no boxes."""
    from mmdet_hoyer.deployment.nir_check import forced_run
    from mmdet_hoyer.deployment.nir_run import GraphRunner
    from mmdet_hoyer.deployment.onnx_check import compare_spikes
    out = {}
    n = sum(wrapper.levels)
    for c in consumers:
        try:
            runner = GraphRunner(export, c)
        except (ValueError, AssertionError, ImportError) as e:
            out[c] = dict(ok=False, error=f'{type(e).__name__}: {e}')
            continue
        values = runner(inputs)
        outs, zs, _ = forced_run(wrapper, inputs, export, values)
        spikes = compare_spikes(
            [values[export.spike_nodes[x]].numpy() for x in wrapper.spiking_layers], outs[n:],
            zs, [wrapper.detector.get_submodule(x).firing_threshold
                 for x in wrapper.spiking_layers],
            wrapper.spiking_layers)
        head = [dict(name=name, max_abs_diff=float((o - t).abs().max()),
                     ok=bool(((o - t).abs() <= 1e-4 + 1e-3 * t.abs()).all()))
                for name, o, t in zip(export.outputs, runner.outputs(values), outs[:n])]
        out[c] = dict(ok=all(h['ok'] for h in head) and spikes['non_tie_mismatches'] == 0,
                      spikes=spikes, head=head)
    return dict(consumers=out)


if __name__ == '__main__':
    sys.exit(main())
