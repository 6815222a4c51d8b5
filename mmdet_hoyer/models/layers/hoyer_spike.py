"""``HoyerSpike``: the one-time-step spiking neuron with a Hoyer-extremum threshold."""
import warnings
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from .hoyer_functional import (firing_rate, hoyer_neuron_train, hoyer_square, spike,
                               relu_warmup_mix, update_running, warmup_mix)
from .hoyer_compiled import compile_unavailable_reason, hoyer_neuron_train_compiled
from .hoyer_cpu_kernel import cpu_kernel_unavailable_reason, hoyer_neuron_train_cpu
from .spike_recompute import is_recomputing, register_spikes

#: |θ| is clamped to at least this value so that ``u = z/|θ|`` stays finite.
THETA_EPS = 1e-4


# registered in MMEngine's root registry, as MMCV registers its activation layers: every
# OpenMMLab scope (mmdet, mmpretrain) finds it through its parent, so act_cfg=dict(type=
# 'HoyerSpike') builds under any default scope (e.g. an mmpretrain pretraining config)
@MODELS.register_module()
class HoyerSpike(nn.Module):
    """One-time-step spiking neuron of Datta, Liu & Beerel (arXiv 2212.10170).

    Takes the pre-activation ``z`` (BN output) and emits binary spikes
    ``o = 1[z/|θ| ≥ E]``, where ``θ`` is a trainable clipping threshold (init 1.0) and ``E``
    is the Hoyer extremum of the clipped membrane potential ``c = clamp(z/|θ|, 0, 1)``:
    ``E = Σc²/Σ|c|`` measured on the batch while training and tracked as a running estimate
    (momentum ``m``: ``r ← (1-m)·r + m·E``), which eval uses. The effective threshold on ``z``
    is ``|θ|·E ≤ |θ|``. There is no membrane state, leak or reset: one time step.

    The backward pass is a straight-through box-car surrogate ``∂o/∂u = scale·1[lower<u≤upper]``
    (paper code: ``0.5·1[0<u≤2]``); ``θ`` learns through ``u``; ``E`` gets no gradient.

    Silent batch: when every ``c`` is 0 (all ``z ≤ 0``), ``E`` is undefined (0/0 in the
    authors' code); this layer then uses its running estimate, which therefore stays
    unchanged, and no unit fires. Nothing becomes NaN.

    While training, the layer keeps two by-products for :class:`HoyerRegularizerHook`:
    ``hoyer_loss``, the Hoyer-square ``H(c) = (Σc)²/Σc²`` of its clipped potential with the
    graph attached (only while ``regularize`` is set, i.e. when the hook is active), and
    ``last_firing_rate`` (only while ``record_stats`` is set). Eval computes neither.

    Spike warm-up (set by :class:`SpikeWarmupHook`, off by default): while ``warmup_alpha`` =
    α > 0 the *training* forward returns ``(1 − α)·o + α·P(u)``, where ``P`` is the ramp whose
    derivative is the surrogate (``0.5·clamp(u, 0, 2)``); the backward is the surrogate as
    always. With ``warmup_ramp = 'relu'`` it returns ``(1 − α)·o + α·max(u, 0)`` instead, with
    the ReLU part's own gradient (an ANN annealed into the SNN). Eval ignores α and always
    emits binary spikes; firing rates count the spikes.

    Args:
        mode: ``'layer'`` (one extremum per layer, paper default) or ``'channel'`` (one per
            output channel, reduced over batch and space).
        momentum: running-estimate momentum in (0, 1].
        init_threshold: initial value of ``θ`` (> 0).
        surrogate_scale, surrogate_lower, surrogate_upper: box-car surrogate parameters on
            ``u``; need ``scale > 0`` and ``lower < upper``.
        exclude_saturated: form ``E`` without the saturated values (``u ≥ 1``), as the
            authors' detection code does (their classification code keeps them at 1); the
            regularizer is unchanged.
        sync_stats: in distributed training, form ``E`` from the moments summed over all
            processes (one all-reduce of two numbers per layer and step): thresholds and running
            estimates are then identical on every rank, as with one process and the whole batch.
        impl: the training step's implementation: ``'torch'`` (eager ATen ops,
            :func:`hoyer_neuron_train`, the readable reference), ``'cpp'`` (the fused C++ CPU
            kernels, :mod:`.hoyer_cpu_kernel`: two passes over the activation forward and one
            backward instead of about six and seven; built on first use, needs a C++ compiler),
            ``'compile'`` (the same maths fused by ``torch.compile``, :mod:`.hoyer_compiled`;
            needs a C++ compiler on the CPU, Triton on CUDA) or ``'auto'`` (default: per device
            the implementation measured fastest there, docs/benchmarks.md — ``'cpp'`` for CPU
            tensors when it builds, else ``'torch'``; ``'torch'`` on CUDA, where the compiled
            kernels are not measured yet: ask for ``'compile'`` explicitly). All give the same
            spikes and gradients up to float32 rounding of the sums; eval is unaffected.
        inplace: accepted for MMCV's ``ConvModule`` (which passes it to activations); unused.
    """

    MODES = ('layer', 'channel')
    IMPLS = ('auto', 'torch', 'cpp', 'compile')

    def __init__(self,
                 mode: str = 'layer',
                 momentum: float = 0.1,
                 init_threshold: float = 1.0,
                 surrogate_scale: float = 0.5,
                 surrogate_lower: float = 0.0,
                 surrogate_upper: float = 2.0,
                 exclude_saturated: bool = False,
                 sync_stats: bool = True,
                 impl: str = 'auto',
                 inplace: bool = False) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'HoyerSpike: mode must be one of {self.MODES}, got {mode!r}')
        if impl not in self.IMPLS:
            raise ValueError(f'HoyerSpike: impl must be one of {self.IMPLS}, got {impl!r}')
        if not isinstance(momentum, (int, float)) or not 0.0 < momentum <= 1.0:
            raise ValueError(f'HoyerSpike: momentum must be a number in (0, 1], got {momentum!r}')
        if not isinstance(init_threshold, (int, float)) or not init_threshold > 0:
            raise ValueError(
                f'HoyerSpike: init_threshold must be a positive number, got {init_threshold!r}')
        if not surrogate_scale > 0:
            raise ValueError('HoyerSpike: surrogate_scale must be > 0 (otherwise no gradient '
                             f'reaches the layer below), got {surrogate_scale!r}')
        if not surrogate_lower < surrogate_upper:
            raise ValueError('HoyerSpike: the surrogate window needs surrogate_lower < '
                             f'surrogate_upper, got ({surrogate_lower!r}, {surrogate_upper!r})')
        if surrogate_upper <= 0 or surrogate_lower >= 1:
            raise ValueError(
                'HoyerSpike: the surrogate window (surrogate_lower, surrogate_upper] must overlap '
                'the firing region around the threshold E in (0, 1], got '
                f'({surrogate_lower!r}, {surrogate_upper!r}]')
        self.mode = mode
        self.impl = impl
        self.exclude_saturated = bool(exclude_saturated)
        self.momentum = float(momentum)
        self.surrogate = (float(surrogate_scale), float(surrogate_lower), float(surrogate_upper))
        self.threshold = nn.Parameter(torch.tensor(float(init_threshold)))
        # 'channel' mode learns its size at the first forward (ConvModule does not pass it);
        # an empty buffer means "not initialised yet" and acts as 1.0 (threshold = |θ|).
        self.register_buffer('running_extremum',
                             torch.ones(1) if mode == 'layer' else torch.empty(0))
        # Set by HoyerRegularizerHook; plain attributes, not state.
        self.regularize = False
        self.detach_threshold = False
        #: in distributed training, form E from the moments summed over all processes (one
        #: all-reduce of two numbers per layer and step), so thresholds and running estimates
        #: are identical on every rank; set False for per-process extrema
        self.sync_stats = bool(sync_stats)
        self.record_stats = False
        #: spike warm-up mix α in [0, 1] (training forward only; see SpikeWarmupHook)
        self.warmup_alpha = 0.0
        #: the warm-up's graded function: 'surrogate' (the surrogate's ramp, backward = the
        #: surrogate) or 'relu' (ReLU forward and backward, annealed into the spikes)
        self.warmup_ramp = 'surrogate'
        self.hoyer_loss: Optional[Tensor] = None
        self.last_firing_rate: Optional[Tensor] = None
        self.last_extremum: Optional[Tensor] = None

    # ------------------------------------------------------------------ helpers
    @property
    def theta_abs(self) -> Tensor:
        """``|θ|``, clamped away from 0."""
        return self.threshold.abs().clamp_min(THETA_EPS)

    def extremum(self) -> Tensor:
        """The extremum used in eval: the running estimate (1.0 before any training)."""
        if self.running_extremum.numel() == 0:
            return torch.ones((), device=self.threshold.device)
        return self.running_extremum.reshape(()) if self.mode == 'layer' \
            else self.running_extremum

    def effective_threshold(self) -> Tensor:
        """Mean firing threshold on ``z`` in eval, ``|θ|·E`` (per channel in 'channel' mode)."""
        return (self.theta_abs.detach() * self.extremum()).float()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        key = prefix + 'running_extremum'
        if key not in state_dict and prefix + 'threshold' in state_dict:
            warnings.warn(
                f'HoyerSpike {prefix.rstrip(".") or "(root)"}: the checkpoint has θ but no '
                "'running_extremum' (saved by a version without running thresholds, or edited): "
                'eval uses the current running estimate (1.0 for a fresh layer, i.e. threshold '
                '|θ|) until the layer trains again', stacklevel=2)
        if key in state_dict and state_dict[key].shape != self.running_extremum.shape \
                and self.mode == 'channel' and self.running_extremum.numel() == 0:
            self.running_extremum = torch.empty_like(state_dict[key],
                                                     device=self.running_extremum.device)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _train_step_fn(self, z: Tensor):
        """The training-step function of ``impl`` for ``z``'s device."""
        impl = self.impl
        if impl == 'auto':
            if z.device.type != 'cpu':
                return hoyer_neuron_train
            reason = cpu_kernel_unavailable_reason(z.device)
            if reason is not None:
                # once per process and reason (warnings' default filter)
                warnings.warn(f"HoyerSpike(impl='auto'): the fused CPU kernels cannot run here "
                              f'({reason}); training with the eager neuron (same results, '
                              'slower: docs/benchmarks.md)', stacklevel=2)
                return hoyer_neuron_train
            return hoyer_neuron_train_cpu
        if impl == 'torch':
            return hoyer_neuron_train
        if impl == 'cpp':
            reason = cpu_kernel_unavailable_reason(z.device)
            fn = hoyer_neuron_train_cpu
        else:
            reason = compile_unavailable_reason(z.device)
            fn = hoyer_neuron_train_compiled
        if reason is None:
            return fn
        raise RuntimeError(f'HoyerSpike: impl={impl!r} cannot run here: {reason}; use '
                           "impl='torch' (or 'auto', which falls back to it)")

    def _sync_now(self) -> bool:
        """Whether this training step sums the moments over processes (see ``sync_stats``)."""
        if not self.sync_stats:
            return False
        dist = torch.distributed
        return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1

    # ------------------------------------------------------------------ forward
    def forward(self, z: Tensor) -> Tensor:
        theta_abs = self.theta_abs
        if not self.training:
            return spike(z, theta_abs, self.extremum(), *self.surrogate)

        per_channel = self.mode == 'channel'
        if per_channel and self.running_extremum.numel() != z.shape[1]:
            if self.running_extremum.numel() != 0:
                raise RuntimeError(
                    f'HoyerSpike(mode="channel") was built for {self.running_extremum.numel()} '
                    f'channels and got an input with {z.shape[1]} (shape {tuple(z.shape)})')
            self.running_extremum = torch.ones(z.shape[1], device=z.device)
        fallback = self.running_extremum if per_channel else self.running_extremum.reshape(())
        # inside recompute_spikes the layer reading the spikes stores this neuron's u instead
        returns_spikes = self.warmup_alpha == 0.0
        step_fn = self._train_step_fn(z)
        kwargs = dict(reg_theta_grad=not self.detach_threshold, sync=self._sync_now(),
                      exclude_saturated=self.exclude_saturated,
                      on_spikes=register_spikes if returns_spikes and is_recomputing() else None)
        if step_fn is hoyer_neuron_train_cpu:
            # the fused step returns H (gradient folded into its own backward) and updates the
            # running estimate in the same call
            spikes, e, s1, s2, h = step_fn(
                z, theta_abs, fallback, per_channel, self.surrogate, with_hoyer=True,
                running=self.running_extremum, momentum=self.momentum, **kwargs)
            self.hoyer_loss = h if self.regularize else None
        else:
            spikes, e, s1, s2 = step_fn(z, theta_abs, fallback, per_channel, self.surrogate,
                                        **kwargs)
            self.hoyer_loss = hoyer_square(s1, s2) if self.regularize else None
            update_running(self.running_extremum, e.reshape(self.running_extremum.shape),
                           self.momentum)
        if self.record_stats:
            self.last_firing_rate = firing_rate(spikes.detach())
            self.last_extremum = e.detach().mean()
        if self.warmup_alpha > 0.0:
            if self.warmup_ramp == 'relu':
                return relu_warmup_mix(spikes, z, theta_abs.detach(), self.warmup_alpha)
            return warmup_mix(spikes, z, theta_abs.detach(), self.warmup_alpha, self.surrogate)
        return spikes

    def extra_repr(self) -> str:
        scale, lower, upper = self.surrogate
        return (f'mode={self.mode!r}, momentum={self.momentum}, surrogate={scale}*1[{lower}<u'
                f'<={upper}]' + (', exclude_saturated=True' if self.exclude_saturated else '')
                + (f', impl={self.impl!r}' if self.impl != 'auto' else ''))
