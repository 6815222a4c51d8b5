"""The spiking backbones' random initialisation, which runs before their ``init_cfg``."""
from typing import List, Optional, Union


def random_init_cfg() -> List[dict]:
    """Kaiming-initialised convs and unit BN, as MMDetection's backbones without pretrained
    weights."""
    return [dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]


def with_random_init(init_cfg: Optional[Union[dict, List[dict]]]) -> List[dict]:
    """:func:`random_init_cfg` followed by ``init_cfg`` (MMEngine runs a ``Pretrained`` entry
    last): layers a stage-1 checkpoint lacks (SSD's fc6/fc7, a converted ANN's thresholds)
    start as in a run from scratch, and ``init_cfg=None`` is a deliberate random start
    (``--cfg-options model.backbone.init_cfg=None``)."""
    if init_cfg is None:
        return random_init_cfg()
    return random_init_cfg() + (list(init_cfg) if isinstance(init_cfg, (list, tuple))
                                else [init_cfg])
