"""The spiking layers a hook acts on, found once at start with a clear error when there are none."""
from typing import List, Tuple

from mmengine.model import is_model_wrapper
from torch import nn

from mmdet_hoyer.analysis.firing_rate import spiking_layers
from mmdet_hoyer.models.layers import HoyerSpike


def unwrap(runner) -> nn.Module:
    """The runner's model without its DDP/FSDP wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


def require_spiking_layers(runner, hook: str, remedy: str) -> List[Tuple[str, HoyerSpike]]:
    """``(name, HoyerSpike)`` pairs of the runner's model; ``RuntimeError`` naming ``hook`` and
    saying ``remedy`` when the model has none."""
    model = unwrap(runner)
    layers = spiking_layers(model)
    if not layers:
        raise RuntimeError(f'{hook} is in custom_hooks but the model ({type(model).__name__}) has '
                           f'no HoyerSpike layer {remedy}')
    return layers
