"""Trains a spiking detector without a stored copy of each spike map (saved-spike recomputation)."""
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from torch import nn

from mmdet.registry import HOOKS
from mmdet_hoyer.models.layers import recompute_spikes

from .spiking_layers import require_spiking_layers, unwrap


@HOOKS.register_module()
class SpikeRecomputeHook(Hook):
    """Run every training forward of the detector inside
    :func:`~mmdet_hoyer.models.layers.recompute_spikes`.

    The conv after each :class:`HoyerSpike` then stores a reference to the neuron's saved
    potential instead of its float spike map and rebuilds the map (``1[u ≥ E]``, bit-equal) when
    backward needs it: one activation-sized tensor less per spiking layer, so the spiking
    detector saves about as much for backward as its ANN twin (docs/results/benchmarks.md). Losses,
    gradients and spikes are unchanged. The block is entered by forward pre/post hooks on the
    (unwrapped) detector, only for forwards that build a graph (training mode, grad enabled);
    backward may run after the forward returned.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handles: List = []
        self._block: Optional[object] = None

    def before_run(self, runner) -> None:
        require_spiking_layers(
            runner, 'SpikeRecomputeHook',
            'whose spike maps could be recomputed; remove the hook from custom_hooks.')
        model = unwrap(runner)
        self._handles = [
            model.register_forward_pre_hook(self._enter),
            model.register_forward_hook(self._exit, always_call=True),
        ]

    def after_run(self, runner) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _enter(self, module: nn.Module, args) -> None:
        if self._block is None and module.training and torch.is_grad_enabled():
            self._block = recompute_spikes()
            self._block.__enter__()

    def _exit(self, module: nn.Module, args, output) -> None:
        if self._block is not None:
            block, self._block = self._block, None
            block.__exit__(None, None, None)
