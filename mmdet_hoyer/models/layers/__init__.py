from .hoyer_functional import (clipped_moments, firing_rate, folded_threshold, hoyer_extremum,
                               hoyer_neuron_train, hoyer_square, relu_warmup_mix, saturated_count,
                               spike, spike_map, surrogate_primitive, update_running,
                               warmup_mix)
from .spike_recompute import recompute_spikes, register_spikes
from .hoyer_spike import HoyerSpike
from .folded_spike import FoldedSpike
from .membrane_shortcut import MembraneShortcutStage
from .multistep_lif import MultiStepLIF, lif_multistep

__all__ = [
    'HoyerSpike', 'FoldedSpike', 'MembraneShortcutStage', 'MultiStepLIF', 'lif_multistep',
    'clipped_moments', 'folded_threshold', 'hoyer_extremum', 'hoyer_square', 'saturated_count', 'spike', 'update_running', 'firing_rate',
    'hoyer_neuron_train', 'surrogate_primitive', 'warmup_mix', 'relu_warmup_mix', 'spike_map',
    'recompute_spikes', 'register_spikes'
]
