"""``HoyerSpike``: the one-time-step spiking neuron with a Hoyer-extremum threshold."""
import warnings
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from .backends import IMPLS, check_impl, resolve_impl, train_step
from .functional import (WARMUP_RAMPS, check_alpha, firing_rate, spike, update_running,
                         warmup_mix)
from .recompute import is_recomputing, register_spikes
from .surrogate import BoxcarSurrogate

#: |θ| is clamped to at least this value so that ``u = z/|θ|`` stays finite.
THETA_EPS = 1e-4


# registered in MMEngine's root registry, as MMCV registers its activation layers: every
# OpenMMLab scope (mmdet, mmpretrain) finds it through its parent, so act_cfg=dict(type=
# 'HoyerSpike') builds under any default scope (e.g. an mmpretrain pretraining config)
@MODELS.register_module()
class HoyerSpike(nn.Module):
    """One-time-step spiking neuron of Datta, Liu & Beerel (arXiv 2212.10170).

    Takes the pre-activation ``z`` (BN output) and emits binary spikes
    ``o = 1[z/|θ| ≥ E]``, where ``θ`` is the trainable **clip threshold** (parameter
    ``threshold``, init 1.0; :attr:`clip_threshold` is ``|θ|``) and ``E`` the **extremum**, the
    Hoyer extremum of the clipped membrane potential ``c = clamp(z/|θ|, 0, 1)``:
    ``E = Σc²/Σ|c|`` (Eq. 5) measured on the batch while training and tracked as a running
    estimate (buffer ``running_extremum``, momentum ``m``: ``r ← (1-m)·r + m·E``), which eval
    uses. The **firing threshold** on ``z`` is ``T = |θ|·E ≤ |θ|`` (:meth:`firing_threshold`).
    There is no membrane state, leak or reset: one time step.

    The backward pass is a straight-through box-car surrogate ``∂o/∂u = scale·1[lower<u≤upper]``
    (paper code: ``0.5·1[0<u≤2]``); ``θ`` learns through ``u``; ``E`` gets no gradient.

    Silent batch: when every ``c`` is 0 (all ``z ≤ 0``), ``E`` is undefined (0/0 in the
    authors' code); this layer then uses its running estimate, which therefore stays
    unchanged, and no unit fires. Nothing becomes NaN.

    While training, the layer keeps two by-products: the Hoyer-square ``H(c) = (Σc)²/Σc²``
    (Eq. 3) of its clipped potential with the graph attached, for the regularizer (only while
    :func:`~.network.set_regularize` is on; :func:`~.network.take_hoyer_terms` hands it
    over), and ``last_firing_rate``/``last_extremum`` (only while
    :func:`~.network.set_record_stats` is on). Eval computes neither. The hooks switch these
    with the functions of :mod:`.network`, not by assigning attributes.

    Spike warm-up (:func:`~.network.set_warmup`, off by default): while ``warmup_alpha`` =
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
        impl: the training step's backend (:mod:`.backends`): ``'torch'`` (eager ATen ops, the
            readable reference), ``'cpp'`` (fused C++ CPU kernels: two passes over the
            activation forward and one backward instead of about six and seven; built on first
            use, needs a C++ compiler), ``'compile'`` (the same maths fused by
            ``torch.compile``; a C++ compiler on the CPU, Triton on CUDA) or ``'auto'``
            (default: ``'cpp'`` for CPU tensors when it builds, else ``'torch'``; ``'torch'`` on
            CUDA, where the compiled kernels are not measured yet). All give the same spikes and
            gradients up to float32 rounding of the sums; eval is unaffected.
        inplace: accepted for MMCV's ``ConvModule`` (which passes it to activations); unused.
    """

    MODES = ('layer', 'channel')
    IMPLS = IMPLS
    RAMPS = WARMUP_RAMPS

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
        if not isinstance(momentum, (int, float)) or not 0.0 < momentum <= 1.0:
            raise ValueError(f'HoyerSpike: momentum must be a number in (0, 1], got {momentum!r}')
        if not isinstance(init_threshold, (int, float)) or not init_threshold > 0:
            raise ValueError(
                f'HoyerSpike: init_threshold must be a positive number, got {init_threshold!r}')
        #: the box-car surrogate gradient (checked once, here)
        self.surrogate = BoxcarSurrogate.checked(surrogate_scale, surrogate_lower,
                                                 surrogate_upper)
        self.mode = mode
        self.impl = impl  # checked by the property's setter
        self.exclude_saturated = bool(exclude_saturated)
        self.momentum = float(momentum)
        #: θ, the clip threshold (its name is kept for checkpoints)
        self.threshold = nn.Parameter(torch.tensor(float(init_threshold)))
        # 'channel' mode learns its size at the first forward (ConvModule does not pass it);
        # an empty buffer means "not initialised yet" and acts as 1.0 (threshold = |θ|).
        self.register_buffer('running_extremum',
                             torch.ones(1) if mode == 'layer' else torch.empty(0))
        # switched by the functions of .network (the hooks call them); plain attributes
        self.regularize = False
        self.detach_threshold = False
        #: in distributed training, form E from the moments summed over all processes (one
        #: all-reduce of two numbers per layer and step), so thresholds and running estimates
        #: are identical on every rank; set False for per-process extrema
        self.sync_stats = bool(sync_stats)
        self.record_stats = False
        self.warmup_alpha = 0.0
        self.warmup_ramp = 'surrogate'
        self.hoyer_loss: Optional[Tensor] = None
        self.last_firing_rate: Optional[Tensor] = None
        self.last_extremum: Optional[Tensor] = None

    # ------------------------------------------------------------------ settings
    @property
    def impl(self) -> str:
        """The training step's backend (:mod:`.backends`); checked whenever it is set."""
        return self._impl

    @impl.setter
    def impl(self, value: str) -> None:
        self._impl = check_impl(value)

    @property
    def warmup_alpha(self) -> float:
        """The spike warm-up's mix α in [0, 1] (training forward only; see SpikeWarmupHook);
        checked whenever it is set."""
        return self._warmup_alpha

    @warmup_alpha.setter
    def warmup_alpha(self, value: float) -> None:
        self._warmup_alpha = check_alpha(value, 'HoyerSpike.warmup_alpha')

    @property
    def warmup_ramp(self) -> str:
        """The warm-up's graded function: 'surrogate' (the surrogate's ramp, backward = the
        surrogate) or 'relu' (ReLU forward and backward, annealed into the spikes)."""
        return self._warmup_ramp

    @warmup_ramp.setter
    def warmup_ramp(self, value: str) -> None:
        if value not in WARMUP_RAMPS:
            raise ValueError(f'HoyerSpike.warmup_ramp must be one of {WARMUP_RAMPS}, got {value!r}')
        self._warmup_ramp = value

    # ------------------------------------------------------------------ helpers
    @property
    def clip_threshold(self) -> Tensor:
        """``|θ|``, the clip threshold (clamped away from 0): ``u = z/|θ|``."""
        return self.threshold.abs().clamp_min(THETA_EPS)

    theta_abs = clip_threshold  # the paper's notation

    def extremum(self) -> Tensor:
        """The extremum used in eval: the running estimate (1.0 before any training)."""
        if self.running_extremum.numel() == 0:
            return torch.ones((), device=self.threshold.device)
        return self.running_extremum.reshape(()) if self.mode == 'layer' \
            else self.running_extremum

    def firing_threshold(self) -> Tensor:
        """``T ≈ |θ|·E``, the firing threshold on ``z`` in eval (per channel in 'channel'
        mode); :func:`~.functional.folded_firing_threshold` gives the exact float32 ``T``."""
        return (self.clip_threshold.detach() * self.extremum()).float()

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

    def resolved_impl(self, device: torch.device) -> str:
        """The backend a training forward on ``device`` runs (``impl`` with 'auto' resolved)."""
        return resolve_impl(self.impl, device)

    def _sync_now(self) -> bool:
        """Whether this training step sums the moments over processes (see ``sync_stats``)."""
        if not self.sync_stats:
            return False
        dist = torch.distributed
        return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1

    # ------------------------------------------------------------------ forward
    def forward(self, z: Tensor) -> Tensor:
        clip = self.clip_threshold
        if not self.training:
            return spike(z, clip, self.extremum(), self.surrogate)

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
        step = train_step(self.impl, z.device)(
            z, clip, fallback, per_channel=per_channel, surrogate=self.surrogate,
            with_hoyer=self.regularize, reg_theta_grad=not self.detach_threshold,
            sync=self._sync_now(), exclude_saturated=self.exclude_saturated,
            on_spikes=register_spikes if returns_spikes and is_recomputing() else None)
        spikes, e = step.spikes, step.extremum
        update_running(self.running_extremum, e.reshape(self.running_extremum.shape),
                       self.momentum)
        self.hoyer_loss = step.hoyer if self.regularize else None
        if self.record_stats:
            self.last_firing_rate = firing_rate(spikes.detach())
            self.last_extremum = e.detach().mean()
        if self.warmup_alpha > 0.0:
            return warmup_mix(spikes, z, clip.detach(), self.warmup_alpha, self.warmup_ramp,
                              self.surrogate)
        return spikes

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, momentum={self.momentum}, surrogate={self.surrogate}' + (', exclude_saturated=True' if self.exclude_saturated else '')
                + (f', impl={self.impl!r}' if self.impl != 'auto' else ''))
