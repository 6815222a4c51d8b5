from .checkpoint import allow_mmengine_checkpoints
from .config_checks import check_data_paths

__all__ = ['allow_mmengine_checkpoints', 'check_data_paths']
