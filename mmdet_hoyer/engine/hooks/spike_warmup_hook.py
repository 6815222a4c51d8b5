"""Spike warm-up: anneal the training forward from a graded activation to binary spikes."""
from typing import List, Tuple

from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from mmdet_hoyer.models.layers import HoyerSpike, set_warmup

from .spiking_layers import require_spiking_layers


def warmup_alpha(it: int, begin: int, end: int) -> float:
    """Mix ``α`` at iteration ``it``: 1 before ``begin``, linear to 0 at ``end``, 0 after."""
    if it < begin:
        return 1.0
    if it >= end:
        return 0.0
    return 1.0 - (it - begin) / (end - begin)


@HOOKS.register_module()
class SpikeWarmupHook(Hook):
    """Train through a graded warm-up that ends in the paper's binary neuron.

    A deep stack of one-time-step spiking layers is chaotic at a random initialisation: a
    small input change flips about as many spikes, a few layers up, as a different image does,
    so the first hundreds of steps see no usable signal (measured in ``docs/research/spike_warmup.md``).
    While this hook is active every :class:`HoyerSpike` returns, in its *training* forward
    (:func:`~mmdet_hoyer.models.layers.set_warmup`),
    ``(1 − α)·o + α·P(u)``: ``o`` the binary spikes, ``P`` the ramp whose derivative is the
    surrogate gradient (``0.5·clamp(u, 0, 2)`` with the paper's surrogate). The backward is the
    surrogate throughout; thresholds, running extrema, the Hoyer regularizer and the logged
    firing rates are those of the spikes. ``α = 1`` for iterations ``< begin``, then falls
    linearly to 0 at ``end``; from ``end`` on the model trains as the plain spiking network, and
    validation/test always run binary spikes (eval ignores ``α``). ``α`` is logged as
    ``train/spike_warmup``.

    ``ramp='relu'`` anneals from a ReLU network instead: the training forward *and* backward
    are those of ``(1 − α)·o + α·max(u, 0)``, so before ``begin`` the model trains as its ANN
    twin (the ReLU's scale ``1/|θ|`` is removed by the next BN) and turns into the SNN while
    ``α`` fades — ANN-to-SNN conversion and fine-tuning within one run. The surrogate's ramp is
    bounded, and a bounded activation did not learn the YOLOv3 demo's classes in its budget
    (``docs/research/spike_warmup.md``).

    Args:
        begin: iteration (or epoch, with ``by_epoch``) where the ramp starts to fade; ≥ 0.
        end: iteration (epoch) from which the forward is binary; ≥ ``begin``, > 0, and not past
            the end of training (the trained model must be the spiking one).
        by_epoch: ``begin``/``end`` count epochs (converted with the train loader's length).
        ramp: the graded function, ``'surrogate'`` (default) or ``'relu'``.
    """

    RAMPS = HoyerSpike.RAMPS

    priority = 'NORMAL'

    def __init__(self, begin: int = 0, end: int = 1000, by_epoch: bool = False,
                 ramp: str = 'surrogate') -> None:
        for name, value in (('begin', begin), ('end', end)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f'SpikeWarmupHook: {name} must be an int >= 0 (iterations, or '
                                 f'epochs with by_epoch=True), got {value!r}')
        if not end > 0 or end < begin:
            raise ValueError(f'SpikeWarmupHook: need 0 <= begin <= end and end > 0, got '
                             f'begin={begin!r}, end={end!r}')
        if ramp not in self.RAMPS:
            raise ValueError(f'SpikeWarmupHook: ramp must be one of {self.RAMPS}, got {ramp!r}')
        self.ramp = ramp
        self.begin = begin
        self.end = end
        self.by_epoch = bool(by_epoch)
        self._iters: Tuple[int, int] = (begin, end)
        self.layers: List[Tuple[str, HoyerSpike]] = []

    def before_train(self, runner) -> None:
        self.layers = require_spiking_layers(
            runner, 'SpikeWarmupHook',
            'to warm up; remove the hook or use a spiking backbone/neck.')
        set_warmup(self.layers, 0.0, self.ramp)  # the ramp now, alpha by self._set below
        unit = 'epochs' if self.by_epoch else 'iterations'
        if self.by_epoch:
            per_epoch = len(runner.train_dataloader)
            self._iters = (self.begin * per_epoch, self.end * per_epoch)
        limit = runner.max_epochs if self.by_epoch else runner.max_iters
        if limit is not None and self.end > limit:
            raise ValueError(
                f'SpikeWarmupHook: end={self.end} {unit} is past the end of training '
                f'({limit} {unit}): the trained model would not be the binary spiking network. '
                'Lower end or train longer.')
        self._set(runner.iter)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        alpha = self._set(runner.iter)
        runner.message_hub.update_scalar('train/spike_warmup', alpha)

    def after_train(self, runner) -> None:
        self._apply(0.0)

    def alpha(self, it: int) -> float:
        """The mix ``α`` used at training iteration ``it``."""
        return warmup_alpha(it, *self._iters)

    def _set(self, it: int) -> float:
        alpha = self.alpha(it)
        self._apply(alpha)
        return alpha

    def _apply(self, alpha: float) -> None:
        set_warmup(self.layers, alpha)
