from .epoch_seed_hook import EpochSeedHook
from .firing_rate_hook import FiringRateHook
from .hoyer_regularizer_hook import HoyerRegularizerHook
from .int8_quantize_hook import Int8QuantizeHook
from .spike_recompute_hook import SpikeRecomputeHook
from .spike_warmup_hook import SpikeWarmupHook
from .teacher_distill_hook import TeacherDistillHook

__all__ = ['HoyerRegularizerHook', 'FiringRateHook', 'EpochSeedHook', 'SpikeWarmupHook',
           'SpikeRecomputeHook', 'TeacherDistillHook', 'Int8QuantizeHook']
