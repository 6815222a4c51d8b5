from .checkpoint import allow_mmengine_checkpoints
from .cli import (build_trained_model, load_config, load_trained_model, parse_with_common_args,
                  shut_down_distributed)
from .config_checks import check_data_paths, check_pretrained_paths
from .torchvision_checkpoint import load_torchvision_as_hoyer  # registers torchvision2hoyer://

__all__ = [
    'allow_mmengine_checkpoints', 'build_trained_model', 'check_data_paths',
    'check_pretrained_paths', 'load_config', 'load_torchvision_as_hoyer', 'load_trained_model', 'parse_with_common_args',
    'shut_down_distributed'
]
