"""The eval-mode detector as a graph: inputs → raw dense-head outputs (+ every spike map)."""
import copy
import inspect
from typing import Dict, List, Tuple

from torch import Tensor, nn

from mmdet_hoyer.models.layers import FoldedSpike, HoyerSpike, MultiStepLIF


class ExportError(RuntimeError):
    """A model (or one of its layers) that cannot be exported; the message names the layer."""


def _unexportable_reason(module: nn.Module) -> str:
    """Why a module cannot go into an exported graph ('' when it can)."""
    if isinstance(module, MultiStepLIF):
        return ('a multi-step LIF neuron (state over T time steps folded into the batch) is a '
                'benchmark baseline, not part of a one-time-step detector')
    if type(module).__module__.startswith('mmcv.ops'):
        return (f'{type(module).__name__} is an MMCV C++/CUDA op with no ONNX translation in '
                'torch.onnx (mmdeploy registers custom ops for it; this tool exports standard '
                'ONNX only)')
    return ''


def check_exportable(model: nn.Module) -> None:
    """Raise :class:`ExportError` naming every layer of ``model`` that cannot be exported."""
    from mmdet.models.detectors import SingleStageDetector
    if not isinstance(model, SingleStageDetector):
        raise ExportError(
            f'{type(model).__name__}: export supports single-stage detectors (a backbone, an '
            'optional neck and one dense head, e.g. YOLOv3, SSD, RetinaNet); two-stage '
            'detectors need RoI ops outside standard ONNX')
    bad = [(name, m, why) for name, m in model.named_modules()
           if (why := _unexportable_reason(m))]
    if bad:
        lines = '\n'.join(f'  {name} ({type(m).__name__}): {why}' for name, m, why in bad)
        raise ExportError(f'{len(bad)} layer(s) cannot be exported:\n{lines}')


def fold_neurons(model: nn.Module) -> List[str]:
    """Replace (in place) every :class:`HoyerSpike` of ``model`` by its :class:`FoldedSpike`
    (threshold ``|θ|·E`` as a constant); returns the replaced layers' names."""
    names = [name for name, m in model.named_modules() if isinstance(m, HoyerSpike)]
    for name in names:
        parent_name, _, child = name.rpartition('.')
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, FoldedSpike.from_neuron(getattr(parent, child)))
    return names


def head_output_groups(head: nn.Module) -> List[str]:
    """Names of the dense head's outputs, as its ``predict_by_feat`` takes them (YOLOv3:
    ``pred_maps``; SSD/RetinaNet: ``cls_scores``, ``bbox_preds``)."""
    params = inspect.signature(head.predict_by_feat).parameters
    groups = []
    for name in params:
        if name in ('batch_img_metas', 'cfg', 'rescale', 'with_nms', 'score_factors'):
            break
        groups.append(name)
    return groups


class ExportableDetector(nn.Module):
    """A copy of a trained single-stage detector for export: eval mode, neurons folded.

    ``forward(inputs)`` (the data preprocessor's output, ``(N, 3, H, W)``) returns a flat tuple:
    the head's raw outputs (MMDetection's ``detector(x, mode='tensor')``, i.e.
    ``bbox_head(neck(backbone(x)))``, each group's levels in order),
    then, with ``with_spikes``, the output of every spiking layer. :attr:`output_names` names
    them (``pred_maps.0``, ..., ``spikes/backbone.stages.0.0.activate``, ...) and
    :meth:`split_outputs` turns the flat tuple back into the head's groups for MMDetection's
    ``predict_by_feat``. Post-processing (box decoding, NMS) is not part of the graph.
    """

    def __init__(self, detector: nn.Module, with_spikes: bool = True) -> None:
        super().__init__()
        check_exportable(detector)
        self.detector = copy.deepcopy(detector).eval()
        self.spiking_layers = fold_neurons(self.detector)
        self.with_spikes = with_spikes
        self.groups = head_output_groups(self.detector.bbox_head)
        self._spikes: Dict[str, Tensor] = {}
        for name in self.spiking_layers:
            self.detector.get_submodule(name).register_forward_hook(self._recorder(name))
        self.levels: Tuple[int, ...] = ()

    def _recorder(self, name: str):
        def record(module: nn.Module, args, output: Tensor) -> None:
            if self.with_spikes:
                self._spikes[name] = output
        return record

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        self._spikes = {}
        try:
            outs = self.detector(inputs, mode='tensor')  # bbox_head(extract_feat(inputs))
            # in definition order, whatever order the layers ran in
            spikes = tuple(self._spikes[n] for n in self.spiking_layers) \
                if self.with_spikes else ()
        finally:
            self._spikes = {}
        if len(outs) != len(self.groups):
            raise ExportError(f'{type(self.detector.bbox_head).__name__} returned {len(outs)} '
                              f'output groups, its predict_by_feat takes {self.groups}')
        self.levels = tuple(len(g) for g in outs)
        flat = tuple(t for group in outs for t in group)
        return flat + spikes

    @property
    def output_names(self) -> List[str]:
        """Names of :meth:`forward`'s outputs (valid after one forward)."""
        if not self.levels:
            raise RuntimeError('ExportableDetector.output_names: run one forward first')
        names = [f'{g}.{i}' for g, n in zip(self.groups, self.levels) for i in range(n)]
        if self.with_spikes:
            names += [f'spikes/{name}' for name in self.spiking_layers]
        return names

    def split_outputs(self, flat: Tuple) -> Tuple[Tuple, List]:
        """``(head groups, spike maps)`` of a flat output tuple (PyTorch's or onnxruntime's)."""
        groups, i = [], 0
        for n in self.levels:
            groups.append(list(flat[i:i + n]))
            i += n
        return tuple(groups), list(flat[i:])
