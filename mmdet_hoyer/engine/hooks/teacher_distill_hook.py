"""Distils a trained, frozen teacher (the ANN twin) into the detector being trained."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from torch import Tensor, nn

from mmdet.registry import HOOKS
from mmdet_hoyer.models.losses import flatten_tensors, output_distillation_loss
from mmdet_hoyer.models.losses.output_distillation import TRANSFORMS
from mmdet_hoyer.utils import build_trained_model

from .spiking_layers import unwrap


@HOOKS.register_module()
class TeacherDistillHook(Hook):
    """Add ``loss_distill = w · Σ_k mean((f(s_k) − f(t_k))²)`` to the detector's loss dict, ``s_k`` /
    ``t_k`` the output maps of the named ``layers`` in the student and in a frozen teacher run on
    the same preprocessed batch (:func:`~mmdet_hoyer.models.losses.output_distillation_loss`).

    The teacher is built from ``teacher_config`` (normally the ANN twin: the identical network
    with BN + ReLU, so every layer has a counterpart of the same shape), loads
    ``teacher_checkpoint``, stays in eval mode without gradients and is not part of the
    runner's model (not optimised, not checkpointed). As :class:`HoyerRegularizerHook`, the term
    is added by a forward hook on the (unwrapped) detector in ``mode='loss'``; the teacher runs
    in ``mode='tensor'`` (for single-stage detectors: backbone, neck and head outputs).

    Args:
        teacher_config: config file of the teacher.
        teacher_checkpoint: its trained checkpoint.
        layers: dotted module names whose outputs are matched (default the head: YOLOv3's raw
            prediction maps, i.e. logit and box-offset regression).
        loss_weight: ``w`` ≥ 0.
        transform: ``f``, ``'none'`` or ``'sigmoid'`` (compare probabilities, not logits).
        loss_name: key of the term in the loss dict (must contain 'loss').
    """

    priority = 'NORMAL'

    def __init__(self,
                 teacher_config: str,
                 teacher_checkpoint: str,
                 layers: Sequence[str] = ('bbox_head', ),
                 loss_weight: float = 1.0,
                 transform: str = 'none',
                 loss_name: str = 'loss_distill') -> None:
        for name, value in (('teacher_config', teacher_config),
                            ('teacher_checkpoint', teacher_checkpoint)):
            if not isinstance(value, str) or not value:
                raise ValueError(f'TeacherDistillHook: {name} must be a file path, got {value!r}')
        if isinstance(layers, str) or not layers or \
                not all(isinstance(n, str) and n for n in layers):
            raise ValueError('TeacherDistillHook: layers must be a non-empty list of module '
                             f"names such as ['bbox_head'], got {layers!r}")
        if isinstance(loss_weight, bool) or not isinstance(loss_weight, (int, float)) \
                or not loss_weight >= 0:
            raise ValueError(f'TeacherDistillHook: loss_weight must be a number >= 0, '
                             f'got {loss_weight!r}')
        if transform not in TRANSFORMS:
            raise ValueError(f'TeacherDistillHook: transform must be one of {TRANSFORMS}, '
                             f'got {transform!r}')
        if not isinstance(loss_name, str) or 'loss' not in loss_name:
            raise ValueError('TeacherDistillHook: loss_name must be a str containing "loss" '
                             f'(MMEngine only optimises such keys), got {loss_name!r}')
        self.teacher_config = teacher_config
        self.teacher_checkpoint = teacher_checkpoint
        self.layers = list(layers)
        self.loss_weight = float(loss_weight)
        self.transform = transform
        self.loss_name = loss_name
        self.teacher: Optional[nn.Module] = None
        self._student_out: Dict[str, object] = {}
        self._teacher_out: Dict[str, object] = {}
        self._batch: Optional[Tuple[Tensor, object]] = None
        self._handles: list = []

    # ------------------------------------------------------------------ set-up
    def before_run(self, runner) -> None:
        for name in ('teacher_config', 'teacher_checkpoint'):
            path = getattr(self, name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'TeacherDistillHook: {name} {path!r} is not a file (train the teacher '
                    'first, e.g. `make demo-ann` for the demo ANN twin)')
        student = unwrap(runner)
        self.teacher = self.build_teacher(self.teacher_config, self.teacher_checkpoint)
        self.teacher.to(next(student.parameters()).device)
        s_modules = self._modules(student, 'student')
        t_modules = self._modules(self.teacher, 'teacher')
        self._handles = [student.register_forward_pre_hook(self._keep_batch, with_kwargs=True),
                         student.register_forward_hook(self._add_loss, with_kwargs=True)]
        for name in self.layers:
            self._handles.append(s_modules[name].register_forward_hook(
                self._recorder(self._student_out, name)))
            self._handles.append(t_modules[name].register_forward_hook(
                self._recorder(self._teacher_out, name)))

    def after_run(self, runner) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self.teacher = None
        self._clear()

    @staticmethod
    def build_teacher(config: str, checkpoint: str) -> nn.Module:
        """The teacher detector in eval mode, weights loaded, no parameter requiring grad."""
        teacher = build_trained_model(Config.fromfile(config), checkpoint, strict=True)
        teacher.eval()
        teacher.requires_grad_(False)
        return teacher

    def _modules(self, model: nn.Module, who: str) -> Dict[str, nn.Module]:
        modules = dict(model.named_modules())
        missing = [n for n in self.layers if n not in modules]
        if missing:
            top = sorted({n.split('.')[0] for n in modules if n})
            raise ValueError(f'TeacherDistillHook: layers {missing} are not modules of the '
                             f'{who} ({type(model).__name__}); give dotted module names, e.g. '
                             f'{top}')
        return modules

    @staticmethod
    def _recorder(store: Dict[str, object], name: str):
        def hook(module, args, output):
            store[name] = output
        return hook

    def _clear(self) -> None:
        self._student_out.clear()
        self._teacher_out.clear()
        self._batch = None

    # ------------------------------------------------------------------ loss
    @staticmethod
    def _mode(args: tuple, kwargs: dict):
        return kwargs.get('mode', args[2] if len(args) > 2 else None)

    def _keep_batch(self, module: nn.Module, args: tuple, kwargs: dict):
        self._clear()
        if module.training and self._mode(args, kwargs) == 'loss':
            inputs = kwargs.get('inputs', args[0] if args else None)
            samples = kwargs.get('data_samples', args[1] if len(args) > 1 else None)
            self._batch = (inputs, samples)
        return None

    def distillation_loss(self) -> Tensor:
        """``w · Σ_k mean((f(s_k) − f(t_k))²)`` for the batch kept by the last training forward."""
        inputs, samples = self._batch
        self._teacher_out.clear()
        with torch.no_grad():
            out = self.teacher(inputs, samples, mode='tensor')
        if 'bbox_head' not in self._teacher_out:
            # single-stage detectors call bbox_head.forward() directly in mode='tensor' (no
            # module hooks fire); what they return is the head's output
            self._teacher_out['bbox_head'] = out
        student: List[Tensor] = []
        teacher: List[Tensor] = []
        for name in self.layers:
            if name not in self._student_out or name not in self._teacher_out:
                raise RuntimeError(f'TeacherDistillHook: layer {name!r} did not run in the '
                                   'student\'s loss forward or the teacher\'s tensor forward')
            s, t = (flatten_tensors(self._student_out[name]),
                    flatten_tensors(self._teacher_out[name]))
            if len(s) != len(t):
                raise RuntimeError(f'TeacherDistillHook: layer {name!r} gives {len(s)} maps in '
                                   f'the student and {len(t)} in the teacher')
            student += s
            teacher += t
        return self.loss_weight * output_distillation_loss(student, teacher, self.transform)

    def _add_loss(self, module: nn.Module, args: tuple, kwargs: dict, output):
        if self._batch is None or not isinstance(output, dict):
            return None
        try:
            output[self.loss_name] = self.distillation_loss()
        finally:
            self._clear()
        return output
