"""Measures spiking activity over whole validation / test epochs."""
from collections import defaultdict
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from mmdet_hoyer.analysis.firing_rate import FiringRateRecorder, layer_group, spiking_layers

from .spiking_layers import unwrap


@HOOKS.register_module()
class FiringRateHook(Hook):
    """Report the firing rate of the spiking layers next to the val/test metrics.

    During every validation and test epoch a :class:`FiringRateRecorder` counts the ones
    emitted by each :class:`HoyerSpike`; after the epoch the counts are summed over processes
    and ``spike_rate`` (all neurons: Σ ones / Σ neurons) plus ``spike_rate/<group>`` are added
    to the epoch's metrics and message hub, so they are printed and saved with the mAP.
    Models without spiking layers report nothing.

    Args:
        group_depth: module-path depth that defines a layer group (``backbone``, ``neck``...).
    """

    priority = 'NORMAL'  # after_*_epoch before LoggerHook (BELOW_NORMAL)

    def __init__(self, group_depth: int = 1) -> None:
        if not isinstance(group_depth, int) or group_depth < 1:
            raise ValueError(f'FiringRateHook: group_depth must be an int >= 1, got {group_depth!r}')
        self.group_depth = group_depth
        self.recorder: Optional[FiringRateRecorder] = None

    def _start(self, runner) -> None:
        model = unwrap(runner)
        layers = spiking_layers(model)
        self.recorder = FiringRateRecorder(model, layers).attach() if layers else None

    def _finish(self, runner, mode: str, metrics: Optional[Dict[str, float]]) -> None:
        if self.recorder is None:
            return
        self.recorder.detach()
        names = [name for name, _ in self.recorder.layers]
        counts = self.recorder.counts()
        data = torch.tensor([[counts.get(n, (0.0, 0))[0] for n in names],
                             [float(counts.get(n, (0.0, 0))[1]) for n in names]],
                            dtype=torch.float64)
        all_reduce(data)  # no-op when not distributed
        ones, total = defaultdict(float), defaultdict(float)
        for name, o, n in zip(names, data[0].tolist(), data[1].tolist()):
            group = layer_group(name, self.group_depth)
            ones[group] += o
            total[group] += n
        stats = {}
        if sum(total.values()) > 0:
            stats['spike_rate'] = sum(ones.values()) / sum(total.values())
            for group in total:
                if total[group] > 0:
                    stats[f'spike_rate/{group}'] = ones[group] / total[group]
        for key, value in stats.items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)
        if metrics is not None:
            metrics.update(stats)
        self.recorder = None

    def before_val_epoch(self, runner) -> None:
        self._start(runner)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._finish(runner, 'val', metrics)

    def before_test_epoch(self, runner) -> None:
        self._start(runner)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._finish(runner, 'test', metrics)
