"""Test-only hook for the 2-process run: after every iteration it gathers every rank's running
thresholds and checks they are identical; it records loss_hoyer and the val metrics of each
rank, and rank 0 writes what it saw to ``<work_dir>/dist_check.json``."""
import json
import os.path as osp

import torch
from mmengine.dist import all_gather, all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from mmdet_hoyer.models.layers import HoyerSpike


@HOOKS.register_module()
class RunningSyncCheckHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.max_diff, self.iters, self.hoyer, self.metrics = 0.0, 0, [], None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        local = torch.cat([m.running_extremum.reshape(-1) for m in model.modules()
                           if isinstance(m, HoyerSpike)])
        gathered = all_gather(local)
        self.max_diff = max(self.max_diff, max(float((g - gathered[0]).abs().max())
                                               for g in gathered))
        self.iters += 1
        self.hoyer.append(float(outputs['loss_hoyer']) if 'loss_hoyer' in outputs else None)

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = all_gather_object({k: float(v) for k, v in (metrics or {}).items()})

    def after_run(self, runner):
        if get_rank() == 0:
            with open(osp.join(runner.work_dir, 'dist_check.json'), 'w') as f:
                json.dump(dict(world_size=get_world_size(), iters=self.iters,
                               max_running_diff=self.max_diff, loss_hoyer=self.hoyer,
                               metrics_per_rank=self.metrics,
                               val_size=len(runner.val_dataloader.dataset)), f)
