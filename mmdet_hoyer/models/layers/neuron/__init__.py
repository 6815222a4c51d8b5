"""The one-time-step Hoyer spiking neuron: its module, its pure maths, its training-step
backends and the switches the hooks use.

=================== ============================================================
``hoyer_spike``     :class:`HoyerSpike`, the module (registered as ``HoyerSpike``)
``functional``      the maths as pure tensor functions (paper's equations)
``surrogate``       :class:`BoxcarSurrogate`, the spike's surrogate gradient
``step``            the contract of a training-step backend, its argument check
``backends``        the backends' table: ``torch``, ``cpp``, ``compile``, ``auto``
``backend_torch``   eager ATen ops, the readable reference
``backend_cpp``     fused C++ CPU kernels (``csrc/``, built by ``cpu_kernels``)
``backend_compile`` ``torch.compile``-d kernels
``recompute``       saved-spike recomputation (spike maps rebuilt in backward)
``network``         network-wide switches (regularizer, statistics, warm-up, impl)
``folded_spike``    :class:`FoldedSpike`, the eval neuron as one compare (export)
=================== ============================================================
"""
from .backend_torch import hoyer_neuron_train
from .backends import BACKENDS, IMPLS, resolve_impl, train_step
from .folded_spike import FoldedSpike
from .functional import (channel_view, check_alpha, clipped_moments, firing_rate,
                         folded_firing_threshold, hoyer_extremum, hoyer_square, saturated_count,
                         spike, spike_map, update_running, warmup_mix)
from .hoyer_spike import HoyerSpike
from .network import (hoyer_layers, set_impl, set_record_stats, set_regularize, set_warmup,
                      take_hoyer_terms)
from .recompute import recompute_spikes, register_spikes
from .step import StepResult, TrainArgs
from .surrogate import PAPER_SURROGATE, BoxcarSurrogate

__all__ = [
    'BACKENDS', 'BoxcarSurrogate', 'FoldedSpike', 'HoyerSpike', 'IMPLS', 'PAPER_SURROGATE',
    'StepResult', 'TrainArgs', 'channel_view', 'check_alpha',
    'clipped_moments', 'firing_rate', 'folded_firing_threshold', 'hoyer_extremum',
    'hoyer_layers', 'hoyer_neuron_train', 'hoyer_square', 'recompute_spikes', 'register_spikes',
    'resolve_impl', 'saturated_count', 'set_impl', 'set_record_stats',
    'set_regularize', 'set_warmup', 'spike', 'spike_map',
    'take_hoyer_terms', 'train_step', 'update_running', 'warmup_mix'
]
