from .energy_model import FP32, INT8, LayerCount, Precision, energy_model
from .feature_maps import FeatureMapRecorder
from .firing_rate import FiringRateRecorder, layer_group, spiking_layers
from .membrane import MembraneRecorder
from .operations import (AC_PJ, MAC_PJ, InputSpikeRecorder, dense_layers, dense_macs,
                         energy_report)

__all__ = [
    'FiringRateRecorder', 'spiking_layers', 'layer_group', 'MembraneRecorder',
    'InputSpikeRecorder', 'dense_layers', 'dense_macs', 'energy_report', 'MAC_PJ', 'AC_PJ',
    'FeatureMapRecorder', 'energy_model', 'LayerCount', 'Precision', 'FP32', 'INT8'
]
