"""Export a trained (spiking) single-stage detector to ONNX and check it with onnxruntime.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out model.onnx \
        [--images a.jpg b.jpg | --num-images 2] [--no-spikes] [--report report.json] [--eval]

The graph takes the data preprocessor's output (normalised, RGB, padded; a static shape:
that of the check images' batch) and returns the dense head's raw outputs, then, unless
``--no-spikes``, the binary output of every spiking layer. Each Hoyer neuron is a
``GreaterOrEqual`` + ``Cast`` with its eval threshold ``|θ|·E`` folded in as a constant.
Box decoding and NMS stay outside the graph: the check runs MMDetection's own
``predict_by_feat`` on the onnxruntime outputs and compares the boxes with PyTorch's
``predict``. Needs the deploy extra: ``pip install -e ".[deploy]"``. See docs/guides/deployment.md.
"""
import json
import sys

import torch

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.deployment import (ExportableDetector, ExportError, check_onnx,
                                    evaluate_onnx, export_onnx)
from mmdet_hoyer.deployment.graph_metadata import graph_metadata
from mmdet_hoyer.utils.cli import export_parser, load_export_args


def parse_args(argv=None):
    p = export_parser('Export a detector to ONNX, check with onnxruntime', '.onnx')
    p.add_argument('--no-spikes', action='store_true',
                   help='export the head outputs only (no spike maps as graph outputs)')
    return p.parse_args(argv)


def _metadata(model, wrapper, inputs) -> dict:
    """What a user outside MMDetection needs to feed the graph and read its outputs."""
    return dict(
        graph_metadata(model, wrapper, inputs, 'tools/deployment/export_onnx.py',
                       '(N, 3, H, W) float32'),
        head=type(model.bbox_head).__name__,
        spiking_layers=json.dumps(wrapper.spiking_layers),
        postprocess='outside the graph: bbox_head.predict_by_feat (decode, score threshold, NMS)')


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg, model, images, inputs, data_samples = load_export_args(args, '.onnx')
    try:
        wrapper = ExportableDetector(model, with_spikes=not args.no_spikes)
        with torch.no_grad():
            wrapper(inputs)  # the head's output structure, for the metadata
        names = export_onnx(wrapper, inputs, args.out, metadata=_metadata(model, wrapper, inputs))
    except ExportError as e:
        raise SystemExit(f'error: {e}')
    report = check_onnx(model, wrapper, args.out, inputs, data_samples)
    report.update(onnx=args.out, input_shape=list(inputs.shape), outputs=names, images=images)

    print(f'exported {args.out}: input {tuple(inputs.shape)}, {sum(wrapper.levels)} head '
          f'outputs ({", ".join(wrapper.groups)}), {len(wrapper.spiking_layers)} spiking layers')
    n = report['num_images']
    s, d, free = report['spikes'], report['detections'], report['free_running']
    layerwise = s is not None and s['num_layers'] > 0
    worst = max(h['max_abs_diff'] for h in report['head'])
    print(f'head outputs vs PyTorch{" given the same spikes" if layerwise else ""}: max |diff| '
          f'{worst:.3g} ({"ok" if all(h["ok"] for h in report["head"]) else "NOT within tolerance"})')
    if s is not None and s['num_layers'] == 0:
        print('no spiking layers (an ANN): nothing to check for spikes')
    elif s is not None:
        print(f'spikes in the ONNX run: {s["num_layers"]} spiking layers, '
              f'{"all exactly 0/1" if s["binary"] else "NOT binary"}, firing rate '
              f'{s["firing_rate"]:.4f}; layer by layer {s["mismatches"]} differ from PyTorch, '
              f'{s["non_tie_mismatches"]} of them not at a threshold tie')
    print(f'detections (MMDetection predict_by_feat on ONNX outputs): '
          f'{"same" if d["same"] else "DIFFERENT"} as PyTorch{" given the same spikes" if layerwise else ""} '
          f'({d["num_same"]}/{n} images; max box diff {d["max_box_diff"]:.3g} px, '
          f'max score diff {d["max_score_diff"]:.3g})')
    if layerwise:
        fd = free['detections']
        print(f'free-running (PyTorch with its own spikes, model.predict): {fd["num_same"]}/{n} '
              f'images with the same detections; {free["spike_flips"]} spikes differ in '
              f'{free["images_with_flips"]} images (threshold ties in one runtime and their '
              'consequences downstream)')
    if args.eval:
        try:
            metrics = evaluate_onnx(model, wrapper, args.out, cfg)
        except ValueError as e:
            raise SystemExit(f'error: --eval: {e}')
        report['eval'] = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
        print('ONNX graph on the test set: ' + ', '.join(
            f'{k} {v:.4f}' for k, v in report['eval'].items()))
    if args.report:
        with open(args.report, 'w') as f:
            json.dump(report, f, indent=1)
    print('check: ' + ('passed' if report['ok'] else 'FAILED'))
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
