"""Per-epoch re-seeding of the data-augmentation RNGs, so that ``--resume`` is exact."""
import random
import warnings
from functools import partial

import numpy as np
import torch
from mmengine.dataset.utils import worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmdet.registry import HOOKS


def epoch_seed(seed: int, epoch: int) -> int:
    """A 31-bit seed that depends only on the run's seed and the epoch."""
    return (int(seed) * 1_000_003 + int(epoch) * 7_919) % 2**31


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Re-seed Python's, NumPy's and torch's global RNGs (and the dataloader workers') from
    ``(seed, epoch)`` before every training epoch.

    MMEngine seeds the RNGs once per run and does not save their state in checkpoints, so the
    random augmentations of a resumed run differ from an uninterrupted run's and the weights
    diverge. With this hook an epoch's random stream depends only on the seed and the epoch
    number, so a run resumed at an epoch boundary (same seed, ``deterministic=True``) reaches
    the same weights. Works with ``num_workers=0`` and with non-persistent workers (their
    ``worker_init_fn`` gets the epoch seed); persistent workers keep their own RNG state across
    epochs, which this hook cannot reach — it warns once.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._warned = False

    def before_train_epoch(self, runner) -> None:
        seed = runner.seed if runner.seed is not None else 0
        s = epoch_seed(seed, runner.epoch)
        random.seed(s)
        np.random.seed(s)
        torch.manual_seed(s)
        loader = runner.train_dataloader
        if getattr(loader, 'num_workers', 0) > 0:
            if loader.persistent_workers:
                if not self._warned:
                    warnings.warn('EpochSeedHook: persistent dataloader workers keep their RNG '
                                  'state across epochs, so a resumed run will not repeat their '
                                  'augmentations; set persistent_workers=False (or '
                                  'num_workers=0) for exact resume')
                    self._warned = True
            else:
                loader.worker_init_fn = partial(worker_init_fn, num_workers=loader.num_workers,
                                                rank=get_rank(), seed=s)
