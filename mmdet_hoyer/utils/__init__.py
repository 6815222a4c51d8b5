from .checkpoint import allow_mmengine_checkpoints
from .cli import load_config, parse_with_common_args
from .config_checks import check_data_paths

__all__ = [
    'allow_mmengine_checkpoints', 'check_data_paths', 'load_config', 'parse_with_common_args'
]
