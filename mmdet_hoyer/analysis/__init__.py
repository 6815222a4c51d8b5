from .firing_rate import FiringRateRecorder, layer_group, spiking_layers

__all__ = ['FiringRateRecorder', 'spiking_layers', 'layer_group']
