"""Randomness as a function of (seed, epoch, iteration, sample), so that ``--resume`` is exact."""
import random
import warnings
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader, Dataset

from mmdet.registry import HOOKS


def mixed_seed(*parts: int) -> int:
    """A 32-bit seed that depends only on ``parts`` (NumPy's ``SeedSequence`` hashing)."""
    return int(np.random.SeedSequence([int(p) % 2**63 for p in parts]).generate_state(1)[0])


def seed_all(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SeededSamples(Dataset):
    """A dataset whose every sample is loaded (its random augmentations drawn) with the global
    RNGs seeded from ``(seed, epoch, index)`` and restored afterwards, in whichever process
    loads it. ``epoch`` is set before each epoch (non-persistent workers copy it when they
    start). Other attributes are those of the wrapped dataset (``metainfo``, ...)."""

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, int(seed), 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int):
        states = random.getstate(), np.random.get_state(), torch.get_rng_state()
        seed_all(mixed_seed(self.seed, 1, self.epoch, idx))
        try:
            return self.dataset[idx]
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])

    def __getattr__(self, name: str):
        if name in ('dataset', 'seed', 'epoch'):  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)


class SkippingBatchSampler:
    """The wrapped batch sampler without its first ``skip`` batches (indices only: no sample
    of a skipped batch is loaded). ``skip`` is set for the epoch a run resumes in."""

    def __init__(self, batch_sampler) -> None:
        self.batch_sampler, self.skip = batch_sampler, 0

    @property
    def sampler(self):  # DistSamplerSeedHook calls batch_sampler.sampler.set_epoch
        return self.batch_sampler.sampler

    def __iter__(self) -> Iterator[List[int]]:
        batches = iter(self.batch_sampler)
        for _ in range(self.skip):
            next(batches, None)
        yield from batches

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.skip, 0)


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Make every random draw of an epoch-based training run a function of the run's seed and
    its position, so a run resumed from *any* checkpoint — the last epoch's, or an
    iteration-interval one written shortly before the job was killed — continues exactly as
    the uninterrupted run (same seed, ``randomness.deterministic=True``).

    MMEngine seeds the RNGs once per run, does not save their states and restarts an epoch
    from its first batch. This hook instead:

    - loads every training sample with the RNGs seeded from ``(seed, epoch, sample index)``
      (:class:`SeededSamples`, in the loading process: workers included), so an epoch's
      augmentations do not depend on what ran before them;
    - re-seeds the global RNGs from ``(seed, iteration)`` before every training iteration, for
      randomness inside the model (dropout, RoI samplers);
    - when ``--resume`` lands inside an epoch (a checkpoint of
      ``CheckpointHook(by_epoch=False, interval=N)``), skips the batches of that epoch the
      checkpoint already trained (:class:`SkippingBatchSampler`: indices only, nothing is
      loaded); the sampler's order comes from ``(seed, epoch)`` as MMEngine's samplers do.

    A killed job therefore loses at most one checkpoint interval. Exactness needs
    ``num_workers=0`` or non-persistent workers (persistent workers keep the epoch they started
    with; the hook warns). Iteration-based loops are left to MMEngine, which replays the
    skipped batches itself (the hook warns and does nothing).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.samples: Optional[SeededSamples] = None
        self.batches: Optional[SkippingBatchSampler] = None
        self.seed = 0

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            warnings.warn(f'EpochSeedHook: {type(loop).__name__} is not epoch based; the hook '
                          'does nothing (MMEngine resumes iteration-based loops itself)')
            return
        self.seed = runner.seed if runner.seed is not None else 0
        old: DataLoader = loop.dataloader
        if old.persistent_workers and old.num_workers > 0:
            warnings.warn('EpochSeedHook: persistent dataloader workers keep the epoch they '
                          'started with, so a resumed run will not repeat their augmentations; '
                          'set persistent_workers=False (or num_workers=0) for exact resume')
        self.samples = SeededSamples(old.dataset, self.seed)
        self.batches = SkippingBatchSampler(old.batch_sampler)
        # the same loader around the seeded dataset and the skipping batch sampler
        loop.dataloader = DataLoader(
            self.samples, batch_sampler=self.batches, num_workers=old.num_workers,
            collate_fn=old.collate_fn, pin_memory=old.pin_memory, timeout=old.timeout,
            worker_init_fn=old.worker_init_fn,
            multiprocessing_context=old.multiprocessing_context, generator=old.generator,
            prefetch_factor=old.prefetch_factor if old.num_workers > 0 else None,
            persistent_workers=old.persistent_workers)

    def before_train_epoch(self, runner) -> None:
        if self.samples is None:
            return
        self.samples.epoch = runner.epoch
        self.batches.skip = 0
        done = runner.iter - runner.epoch * len(self.batches)
        if done > 0:  # resumed inside this epoch
            self.batches.skip = done
        seed_all(mixed_seed(self.seed, 2, runner.epoch))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.samples is not None:
            seed_all(mixed_seed(self.seed, 3, runner.iter))

    def after_train_epoch(self, runner) -> None:
        if self.batches is not None:
            self.batches.skip = 0
