"""Output distillation: the student's layer outputs regressed onto a frozen teacher's.

Spiking CenterNet (Bodden et al., 2024) distils a non-spiking teacher's head outputs into the
spiking detector; here the teacher is the SNN's own ANN twin (the identical network with
BN + ReLU), so every named layer has a counterpart of the same shape.
"""
from typing import List, Sequence

import torch
from torch import Tensor


def flatten_tensors(output) -> List[Tensor]:
    """The tensors of a layer output (a tensor, or nested tuples/lists of them), in order."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (list, tuple)):
        return [t for o in output for t in flatten_tensors(o)]
    return []


TRANSFORMS = ('none', 'sigmoid')


def output_distillation_loss(student: Sequence[Tensor], teacher: Sequence[Tensor],
                             transform: str = 'none') -> Tensor:
    """``Σ_k mean((f(s_k) − f(t_k))²)``: the mean squared difference of each pair of maps, summed
    over the pairs (Ba & Caruana's logit regression, per map so that each level counts alike).
    ``f`` is the identity (``'none'``) or the logistic function (``'sigmoid'``: matches the
    probabilities and offsets YOLOv3's losses read, so that saturated logits of the teacher,
    e.g. −12 vs −8 for background, do not dominate). The teacher's maps carry no gradient.
    Computed in float32 whatever the dtype."""
    if transform not in TRANSFORMS:
        raise ValueError(f'output_distillation_loss: transform must be one of {TRANSFORMS}, '
                         f'got {transform!r}')
    if len(student) != len(teacher) or not student:
        raise ValueError(f'output_distillation_loss: needs the same, non-zero number of student '
                         f'and teacher maps, got {len(student)} and {len(teacher)}')
    terms = []
    for k, (s, t) in enumerate(zip(student, teacher)):
        if s.shape != t.shape:
            raise ValueError(f'output_distillation_loss: map {k} has shape {tuple(s.shape)} in '
                             f'the student and {tuple(t.shape)} in the teacher')
        s, t = s.float(), t.detach().float()
        if transform == 'sigmoid':
            s, t = s.sigmoid(), t.sigmoid()
        terms.append((s - t).pow(2).mean())
    return torch.stack(terms).sum()
