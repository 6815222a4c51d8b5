"""Record the feature maps of named modules (the detection figure's spike maps)."""
from typing import Callable, Dict, Sequence, Tuple

from torch import Tensor, nn

from .layer_hooks import LayerHookRecorder


class FeatureMapRecorder(LayerHookRecorder):
    """Keeps the latest output maps (4-d tensors) of named modules: a tensor output is recorded
    as ``name``, the i-th map of a tuple/list output as ``name[i]`` (e.g. a neck's levels)."""

    def __init__(self, layers: Sequence[Tuple[str, nn.Module]]) -> None:
        super().__init__(layers)
        self.maps: Dict[str, Tensor] = {}

    def _hook(self, name: str) -> Callable:
        def hook(module, args, out):
            if isinstance(out, Tensor):
                out = {name: out}
            elif isinstance(out, (list, tuple)):
                out = {f'{name}[{i}]': o for i, o in enumerate(out)}
            else:
                return
            self.maps.update((k, o.detach()) for k, o in out.items()
                             if isinstance(o, Tensor) and o.ndim == 4)
        return hook
