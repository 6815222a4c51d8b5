"""Test-only hook: SIGKILL the training process right after iteration ``at`` (after the
CheckpointHook of that iteration has run), as a preempted job dies."""
import os
import signal

from mmengine.hooks import Hook

from mmdet.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
