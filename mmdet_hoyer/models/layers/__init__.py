from .hoyer_functional import (clipped_moments, firing_rate, hoyer_extremum, hoyer_neuron_train,
                               hoyer_square, spike, update_running)
from .hoyer_spike import HoyerSpike

__all__ = [
    'HoyerSpike', 'clipped_moments', 'hoyer_extremum', 'hoyer_square', 'spike',
    'update_running', 'firing_rate', 'hoyer_neuron_train'
]
