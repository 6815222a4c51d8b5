"""Check an exported graph with onnxruntime against the PyTorch detector it came from.

A one-step spiking network is discontinuous: two runtimes round the first (analog) convolution
differently, so a pre-activation that lies on a threshold (within ~1e-6) may fire in one and not
in the other, and the flipped spike changes the next layers' input by a whole weight. Comparing
the two runs end to end therefore cannot be an exact test on many images. The check is exact
layer by layer instead (every spike map is a graph output): PyTorch re-runs the network with
each spiking layer's output replaced by onnxruntime's spike map ("forced" run), and

* every onnxruntime spike must equal PyTorch's ``1[z ≥ T]`` for the ``z`` that PyTorch computes
  from the same upstream spikes, except where ``z`` is within ``tie_tol`` of ``T``;
* the raw head outputs must equal the forced run's within float tolerance;
* MMDetection's ``predict_by_feat`` on the onnxruntime outputs must give the forced run's boxes.

The free-running comparison (PyTorch's own spikes, the original unfolded model's ``predict``) is
reported beside it: spike flips and the images whose detections differ.
"""
from contextlib import contextmanager
import functools
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from mmdet_hoyer.models.layers.neuron.functional import channel_view
from .exportable_detector import ExportableDetector


def onnx_session(path: str):
    """An onnxruntime session for the graph at ``path`` (CPU), kept while the file is
    unchanged."""
    stat = os.stat(path)
    return _session(os.path.abspath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _session(path: str, mtime_ns: int, size: int):
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError('the ONNX check needs the deploy extra: pip install -e ".[deploy]"') from e
    return ort.InferenceSession(path, providers=['CPUExecutionProvider'])


def run_onnxruntime(path: str, inputs: Tensor) -> List[np.ndarray]:
    """All outputs of the graph at ``path`` for ``inputs`` (CPU execution provider). The graph's
    height and width are static: another input size is an error that names both."""
    session = onnx_session(path)
    expected = session.get_inputs()[0].shape
    if list(inputs.shape[1:]) != list(expected[1:]):
        raise ValueError(f'{path}: the graph takes inputs of shape (N, {", ".join(map(str, expected[1:]))}) '
                         f'(height and width fixed at export), got {tuple(inputs.shape)}')
    return session.run(None, {session.get_inputs()[0].name: inputs.detach().cpu().numpy()})


@contextmanager
def forcing_spikes(wrapper: ExportableDetector, forced: Optional[Sequence] = None):
    """While active, every spiking layer's output is replaced by the given spike map (one per
    layer, definition order; arrays or tensors) after the layer has computed its own."""
    handles = []
    for name, s in zip(wrapper.spiking_layers, forced if forced is not None else ()):
        s = torch.as_tensor(s)
        handles.append(wrapper.detector.get_submodule(name).register_forward_hook(
            lambda m, args, out, s=s: s.to(out.dtype)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _run(wrapper: ExportableDetector, inputs: Tensor,
         forced: Optional[Sequence[np.ndarray]] = None):
    """PyTorch outputs of ``wrapper`` and each spiking layer's input ``z`` (definition order).

    With ``forced``, every spiking layer's output is replaced by the given spike map after the
    layer has computed its own (which the returned spike outputs are)."""
    zs: Dict[str, Tensor] = {}
    handles = [wrapper.detector.get_submodule(name).register_forward_pre_hook(
        lambda m, args, name=name: zs.__setitem__(name, args[0]))
        for name in wrapper.spiking_layers]
    try:
        with forcing_spikes(wrapper, forced), torch.no_grad():
            outs = wrapper(inputs)
    finally:
        for h in handles:
            h.remove()
    return outs, [zs[n] for n in wrapper.spiking_layers]


def compare_spikes(onnx_spikes: Sequence[np.ndarray], torch_spikes: Sequence[Tensor],
                   zs: Sequence[Tensor], thresholds: Sequence[Tensor], names: Sequence[str],
                   tie_tol: float = 1e-4) -> Dict:
    """Per spiking layer: binary?, firing rate, and the spikes that differ from PyTorch's — a
    difference counts as a tie when ``z`` lies within ``tie_tol·max(1, |T|)`` of the threshold."""
    layers = []
    for name, o, t, z, thr in zip(names, onnx_spikes, torch_spikes, zs, thresholds):
        diff = o != t.numpy()
        gap = (z.float() - channel_view(thr, z.dim())).abs().numpy()
        tol = tie_tol * max(1.0, float(thr.abs().max()))
        layers.append(dict(
            name=name, elements=int(o.size), binary=bool(np.isin(o, (0.0, 1.0)).all()),
            firing_rate=float(o.mean()), mismatches=int(diff.sum()),
            non_tie_mismatches=int((diff & (gap > tol)).sum())))
    total = sum(layer['elements'] for layer in layers)
    return dict(
        layers=layers, num_layers=len(layers),
        binary=all(layer['binary'] for layer in layers),
        firing_rate=sum(layer['firing_rate'] * layer['elements']
                        for layer in layers) / max(total, 1),
        mismatches=sum(layer['mismatches'] for layer in layers),
        non_tie_mismatches=sum(layer['non_tie_mismatches'] for layer in layers))


def _match_up_to_ties(x, y, atol: float, tie_tol: float) -> bool:
    """The same detections once those tied at the cut are set aside: the boxes scoring within
    ``tie_tol`` of the lower of the two images' last kept scores (``max_per_img`` picks among
    equal scores by float noise), matched one to one by label, box and score (``atol``)."""
    if not (len(x) and len(y)):
        return len(x) == len(y)
    cut = float(torch.minimum(x.scores.min(), y.scores.min())) + tie_tol
    x, y = x[x.scores > cut], y[y.scores > cut]
    if len(x) != len(y):
        return False
    free = torch.ones(len(y), dtype=torch.bool)
    for i in range(len(x)):
        hit = free & (y.labels == x.labels[i]) & ((y.scores - x.scores[i]).abs() <= atol) & \
            ((y.bboxes - x.bboxes[i]).abs().amax(1) <= atol)
        if not hit.any():
            return False
        free[int(torch.nonzero(hit)[0])] = False
    return True


def compare_detections(a, b, atol: float = 1e-2, tie_tol: float = 1e-5) -> Dict:
    """Two lists of ``InstanceData`` (boxes, scores, labels), image by image: the same boxes
    (pixels of the original image), labels and scores (``atol``)? An image whose lists differ
    only in boxes tied at the score cut (:func:`_match_up_to_ties`) counts as the same and is
    listed in ``tied_images``."""
    same_images, tied, worst_box, worst_score = [], [], 0.0, 0.0
    for i, (x, y) in enumerate(zip(a, b)):
        same = len(x) == len(y) and torch.equal(x.labels, y.labels)
        if same and len(x):
            box = float((x.bboxes - y.bboxes).abs().max())
            score = float((x.scores - y.scores).abs().max())
            worst_box, worst_score = max(worst_box, box), max(worst_score, score)
            same = box <= atol and score <= atol
        if not same and _match_up_to_ties(x, y, atol, tie_tol):
            same = True
            tied.append(i)
        same_images.append(bool(same))
    return dict(same=len(a) == len(b) and all(same_images), same_images=same_images,
                num_same=sum(same_images), tied_images=tied, max_box_diff=worst_box,
                max_score_diff=worst_score, counts=[len(x) for x in a])


def _head(wrapper: ExportableDetector, outs) -> list:
    groups, _ = wrapper.split_outputs([o if isinstance(o, Tensor) else torch.from_numpy(o)
                                       for o in outs])
    return groups


def check_onnx(model: nn.Module, wrapper: ExportableDetector, path: str, inputs: Tensor,
               data_samples: List, rtol: float = 1e-3, atol: float = 1e-4,
               tie_tol: float = 1e-4) -> Dict:
    """Run the graph at ``path`` with onnxruntime on ``inputs`` and check it against PyTorch
    (module docstring). Returns ``ok`` and the report: ``head`` (per output), ``spikes``
    (:func:`compare_spikes`, forced run), ``detections`` (ONNX vs forced run) and
    ``free_running`` (ONNX vs PyTorch on its own: spike flips, detections per image)."""
    ort_outs = run_onnxruntime(path, inputs)
    n_head = sum(wrapper.levels)
    names = wrapper.output_names
    free_outs, free_zs = _run(wrapper, inputs)
    spiking = wrapper.with_spikes and bool(wrapper.spiking_layers)
    forced_outs, forced_zs = _run(wrapper, inputs, ort_outs[n_head:]) if spiking \
        else (free_outs, free_zs)

    head = []
    for name, o, t, f in zip(names[:n_head], ort_outs, forced_outs, free_outs):
        err = np.abs(o - t.numpy())
        head.append(dict(name=name, shape=list(o.shape), max_abs_diff=float(err.max()),
                         free_running_max_abs_diff=float(np.abs(o - f.numpy()).max()),
                         ok=bool((err <= atol + rtol * np.abs(t.numpy())).all())))
    thresholds = [wrapper.detector.get_submodule(n).firing_threshold
                  for n in wrapper.spiking_layers]
    spikes = compare_spikes(ort_outs[n_head:], forced_outs[n_head:], forced_zs, thresholds,
                            wrapper.spiking_layers, tie_tol) if wrapper.with_spikes else None

    metas = [s.metainfo for s in data_samples]
    head_fn = model.bbox_head.predict_by_feat
    onnx_dets = head_fn(*_head(wrapper, ort_outs), batch_img_metas=metas, rescale=True)
    forced_dets = head_fn(*_head(wrapper, forced_outs), batch_img_metas=metas, rescale=True)
    with torch.no_grad():
        model.eval()
        torch_dets = [s.pred_instances for s in model.predict(inputs, [s.clone() for s in
                                                                         data_samples])]
    detections = compare_detections(onnx_dets, forced_dets)
    free_dets = compare_detections(onnx_dets, torch_dets)
    free = dict(detections=free_dets)
    if wrapper.with_spikes:
        flips = [(o != t.numpy()).reshape(o.shape[0], -1).any(1)
                 for o, t in zip(ort_outs[n_head:], free_outs[n_head:])]
        flipped = np.any(flips, axis=0) if flips else np.zeros(len(metas), dtype=bool)
        free.update(spike_flips=int(sum((o != t.numpy()).sum() for o, t in
                                        zip(ort_outs[n_head:], free_outs[n_head:]))),
                    images_with_flips=int(flipped.sum()), flipped_images=flipped.tolist())
    ok = all(h['ok'] for h in head) and detections['same'] and (
        spikes is None or (spikes['binary'] and spikes['non_tie_mismatches'] == 0))
    if not wrapper.with_spikes:  # no layer-by-layer check possible: end to end only
        ok = ok and free_dets['same']
    return dict(ok=ok, head=head, spikes=spikes, detections=detections, free_running=free,
                num_images=int(inputs.shape[0]))
