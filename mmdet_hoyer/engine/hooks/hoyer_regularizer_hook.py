"""Adds the Hoyer regularizer to any detector's loss and logs spiking statistics."""
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from torch import nn

from mmdet.registry import HOOKS
from mmdet_hoyer.analysis.firing_rate import layer_group
from mmdet_hoyer.models.layers import (HoyerSpike, set_record_stats, set_regularize,
                                       take_hoyer_terms)

from .spiking_layers import require_spiking_layers, unwrap


@HOOKS.register_module()
class HoyerRegularizerHook(Hook):
    """Add ``loss_hoyer = λ · Σ_l H_l`` to the detector's loss dict (Datta et al., 2022).

    ``H_l = (Σ|c|)² / Σc²`` is the Hoyer-square of layer ``l``'s clipped membrane potential
    ``c = clamp(z/|θ|, 0, 1)`` over the whole batch tensor; each :class:`HoyerSpike` computes it
    in its training forward once :func:`~mmdet_hoyer.models.layers.set_regularize` is on, and
    :func:`~mmdet_hoyer.models.layers.take_hoyer_terms` hands the terms over. The hook registers
    a forward hook on the (unwrapped) detector that appends the sum to the dict returned by
    ``forward(..., mode='loss')``, so no detector or head class changes, the term is logged like
    every loss, and under DDP the term is part of the loss the wrapped module returns.

    Every ``interval`` iterations it also writes, per layer group (the first ``group_depth``
    parts of the module path: backbone / neck / bbox_head), the mean firing rate and the mean
    firing threshold ``|θ|·E`` of the batch to the message hub as
    ``train/spike_rate/<group>`` and ``train/spike_thr/<group>`` (text log, JSON, TensorBoard).

    Args:
        loss_weight: λ ≥ 0 (authors' code: 1e-8 for VGG16, 2e-9 for ResNet-50).
        detach_threshold: regularize ``clamp(z, 0, |θ|.detach())`` as the authors' later VGG
            code does (no regularizer gradient reaches θ). Default: gradients reach z and θ.
        interval: iterations between statistic logs (≥ 1).
        group_depth: module-path depth that defines a layer group (≥ 1).
        loss_name: key of the term in the loss dict (must contain 'loss' to be optimised).
    """

    priority = 'NORMAL'  # after_train_iter before LoggerHook (BELOW_NORMAL)

    def __init__(self,
                 loss_weight: float = 1e-8,
                 detach_threshold: bool = False,
                 interval: int = 50,
                 group_depth: int = 1,
                 loss_name: str = 'loss_hoyer') -> None:
        if isinstance(loss_weight, bool) or not isinstance(loss_weight, (int, float)) \
                or not loss_weight >= 0:
            raise ValueError(f'HoyerRegularizerHook: loss_weight (λ) must be a number >= 0, '
                             f'got {loss_weight!r}')
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'HoyerRegularizerHook: interval must be an int >= 1, got {interval!r}')
        if not isinstance(group_depth, int) or group_depth < 1:
            raise ValueError(
                f'HoyerRegularizerHook: group_depth must be an int >= 1, got {group_depth!r}')
        if not isinstance(loss_name, str) or 'loss' not in loss_name:
            raise ValueError('HoyerRegularizerHook: loss_name must be a str containing "loss" '
                             f'(MMEngine only optimises such keys), got {loss_name!r}')
        self.loss_weight = float(loss_weight)
        self.detach_threshold = bool(detach_threshold)
        self.interval = interval
        self.group_depth = group_depth
        self.loss_name = loss_name
        self.layers: List[Tuple[str, HoyerSpike]] = []
        self._handles: list = []

    # ------------------------------------------------------------------ set-up
    def before_run(self, runner) -> None:
        self.layers = require_spiking_layers(
            runner, 'HoyerRegularizerHook',
            "to regularize. Use a spiking backbone/neck (e.g. backbone=dict(type='HoyerVGG')) or "
            "set act_cfg=dict(type='HoyerSpike'), or remove the hook from custom_hooks.")
        model = unwrap(runner)
        set_regularize(self.layers, True, detach_threshold=self.detach_threshold)
        self._handles = [model.register_forward_hook(self._add_loss, with_kwargs=True)]

    def after_run(self, runner) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        set_regularize(self.layers, False)

    # ------------------------------------------------------------------ loss
    def regularizer(self) -> Optional[torch.Tensor]:
        """``λ·Σ_l H_l`` over the layers that ran since the last call (or None); the terms are
        handed over (:func:`~mmdet_hoyer.models.layers.take_hoyer_terms`)."""
        terms = take_hoyer_terms(self.layers)
        if not terms:
            return None
        return self.loss_weight * torch.stack(terms).sum()

    def _add_loss(self, module: nn.Module, args: tuple, kwargs: dict, output):
        mode = kwargs.get('mode', args[2] if len(args) > 2 else None)
        if not (module.training and mode == 'loss' and isinstance(output, dict)):
            return None
        loss = self.regularizer()  # the graph lives in `loss`
        if loss is not None:
            output[self.loss_name] = loss
        return output

    # ------------------------------------------------------------------ logging
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        set_record_stats(self.layers, self.every_n_train_iters(runner, self.interval))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        for key, value in self.layer_group_stats().items():
            runner.message_hub.update_scalar(f'train/{key}', value)
        set_record_stats(self.layers, False)

    def layer_group_stats(self) -> Dict[str, float]:
        """Mean firing rate and mean firing threshold ``|θ|·E`` per layer group, from the last
        recorded batch."""
        rates, thrs = defaultdict(list), defaultdict(list)
        for name, m in self.layers:
            if m.last_firing_rate is None:
                continue
            group = layer_group(name, self.group_depth)
            rates[group].append(float(m.last_firing_rate))
            thrs[group].append(float(m.clip_threshold.detach() * m.last_extremum))
        stats = {}
        for group in rates:
            stats[f'spike_rate/{group}'] = sum(rates[group]) / len(rates[group])
            stats[f'spike_thr/{group}'] = sum(thrs[group]) / len(thrs[group])
        return stats
