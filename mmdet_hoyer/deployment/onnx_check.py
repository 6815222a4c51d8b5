"""Check an exported graph with onnxruntime against the PyTorch detector it came from."""
from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .exportable_detector import ExportableDetector


def run_onnxruntime(path: str, inputs: Tensor) -> List[np.ndarray]:
    """All outputs of the graph at ``path`` for ``inputs`` (CPU execution provider)."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError('the ONNX check needs the deploy extra: pip install -e ".[deploy]"') from e
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {session.get_inputs()[0].name: inputs.detach().cpu().numpy()})


def _thresholds(wrapper: ExportableDetector) -> List[Tensor]:
    return [wrapper.detector.get_submodule(n).threshold for n in wrapper.spiking_layers]


def _pre_activations(wrapper: ExportableDetector, inputs: Tensor):
    """PyTorch's outputs of ``wrapper`` and the input ``z`` of every spiking layer."""
    zs: List[Tensor] = []
    handles = [wrapper.detector.get_submodule(n).register_forward_pre_hook(
        lambda m, args: zs.append(args[0])) for n in wrapper.spiking_layers]
    try:
        with torch.no_grad():
            outs = wrapper(inputs)
    finally:
        for h in handles:
            h.remove()
    return outs, zs


def compare_spikes(onnx_spikes: Sequence[np.ndarray], torch_spikes: Sequence[Tensor],
                   zs: Sequence[Tensor], thresholds: Sequence[Tensor], names: Sequence[str],
                   tie_tol: float = 1e-4) -> Dict:
    """Per spiking layer: binary?, firing rate, and the spikes that differ from PyTorch's —
    each allowed only where ``z`` lies within ``tie_tol·max(1, |T|)`` of the threshold ``T``
    (the two runtimes' convolutions round differently, so a value on the threshold may go
    either way)."""
    layers = []
    for name, o, t, z, thr in zip(names, onnx_spikes, torch_spikes, zs, thresholds):
        t = t.numpy()
        diff = o != t
        thr_b = thr.reshape((1, -1) + (1, ) * (z.dim() - 2)) if thr.numel() > 1 else thr
        gap = (z - thr_b).abs().numpy()
        tol = tie_tol * max(1.0, float(thr.abs().max()))
        layers.append(dict(
            name=name, elements=int(o.size), binary=bool(np.isin(o, (0.0, 1.0)).all()),
            firing_rate=float(o.mean()), mismatches=int(diff.sum()),
            non_tie_mismatches=int((diff & (gap > tol)).sum())))
    total = sum(layer['elements'] for layer in layers)
    return dict(
        layers=layers, num_layers=len(layers),
        binary=all(layer['binary'] for layer in layers),
        firing_rate=sum(layer['firing_rate'] * layer['elements'] for layer in layers) / max(total, 1),
        mismatches=sum(layer['mismatches'] for layer in layers),
        non_tie_mismatches=sum(layer['non_tie_mismatches'] for layer in layers))


def compare_detections(a, b, atol: float = 1e-2) -> Dict:
    """Two lists of ``InstanceData`` (boxes, scores, labels): do they hold the same boxes?
    Boxes are compared in pixels of the original image, scores absolutely."""
    worst_box, worst_score, same = 0.0, 0.0, True
    for x, y in zip(a, b):
        if len(x) != len(y) or not torch.equal(x.labels, y.labels):
            same = False
            continue
        if len(x):
            worst_box = max(worst_box, float((x.bboxes - y.bboxes).abs().max()))
            worst_score = max(worst_score, float((x.scores - y.scores).abs().max()))
    same = same and len(a) == len(b) and worst_box <= atol and worst_score <= atol
    return dict(same=same, max_box_diff=worst_box, max_score_diff=worst_score,
                counts=[[len(x) for x in a], [len(y) for y in b]])


def check_onnx(model: nn.Module, wrapper: ExportableDetector, path: str, inputs: Tensor,
               data_samples: List, rtol: float = 1e-3, atol: float = 1e-4) -> Dict:
    """Run the graph at ``path`` with onnxruntime on ``inputs`` and compare it with PyTorch.

    * ``head``: each raw head output against ``wrapper``'s (``|a − b| ≤ atol + rtol·|b|``);
    * ``spikes``: every spike map exactly 0/1, PyTorch-equal except at threshold ties, the
      firing rate measured in the ONNX run (:func:`compare_spikes`);
    * ``detections``: MMDetection's ``bbox_head.predict_by_feat`` (box decoding, score
      thresholds, NMS) on the onnxruntime outputs against ``model.predict`` — the original,
      unfolded PyTorch detector (:func:`compare_detections`).

    ``ok`` is true when all three hold.
    """
    ort_outs = run_onnxruntime(path, inputs)
    torch_outs, zs = _pre_activations(wrapper, inputs)
    names = wrapper.output_names
    n_head = sum(wrapper.levels)
    head = []
    for name, o, t in zip(names[:n_head], ort_outs[:n_head], torch_outs[:n_head]):
        t = t.numpy()
        err = np.abs(o - t)
        head.append(dict(name=name, shape=list(o.shape), max_abs_diff=float(err.max()),
                         ok=bool((err <= atol + rtol * np.abs(t)).all())))
    spikes = compare_spikes(ort_outs[n_head:], torch_outs[n_head:], zs, _thresholds(wrapper),
                            wrapper.spiking_layers) if wrapper.with_spikes else None

    groups, _ = wrapper.split_outputs([torch.from_numpy(o) for o in ort_outs])
    metas = [s.metainfo for s in data_samples]
    onnx_dets = model.bbox_head.predict_by_feat(*groups, batch_img_metas=metas, rescale=True)
    with torch.no_grad():
        model.eval()
        torch_dets = [s.pred_instances for s in model.predict(inputs, [s.clone() for s in
                                                                         data_samples])]
    dets = compare_detections(onnx_dets, torch_dets)
    ok = all(h['ok'] for h in head) and dets['same'] and (
        spikes is None or (spikes['binary'] and spikes['non_tie_mismatches'] == 0))
    return dict(ok=ok, head=head, spikes=spikes, detections=dets)
