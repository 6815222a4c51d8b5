"""Spiking YOLOv3 neck: MMDetection's topology with BN + HoyerSpike in every conv."""
from typing import List

from mmdet.models.necks import YOLOV3Neck
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig


@MODELS.register_module()
class HoyerYOLOV3Neck(YOLOV3Neck):
    """MMDetection's :class:`~mmdet.models.necks.YOLOV3Neck` with spiking neurons.

    Every ``ConvModule`` of the neck (five-conv detection blocks and the 1×1 lateral convs) is
    ``conv → BN → HoyerSpike``. Nearest upsampling and channel concatenation keep spike maps
    binary, so with a spiking backbone every conv in the neck sees binary input and the neck
    emits binary maps. The topology is MMDetection's own (this class only changes defaults and
    checks them).

    Args:
        num_scales, in_channels, out_channels, conv_cfg: as ``YOLOV3Neck``.
        norm_cfg: normalisation before each neuron (BN by default; required by the neuron).
        act_cfg: the spiking neuron config (``HoyerSpike`` by default).
    """

    def __init__(self,
                 num_scales: int,
                 in_channels: List[int],
                 out_channels: List[int],
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 init_cfg: OptMultiConfig = None) -> None:
        for name, value in (('in_channels', in_channels), ('out_channels', out_channels)):
            if not isinstance(value, (list, tuple)) or len(value) != num_scales:
                raise ValueError(f'HoyerYOLOV3Neck: {name} must be a list of {num_scales} ints '
                                 f'(one per scale, deepest first), got {value!r}')
        if norm_cfg is None:
            raise ValueError('HoyerYOLOV3Neck: norm_cfg must not be None: the spiking neuron '
                             'thresholds the normalised pre-activation')
        super().__init__(num_scales, list(in_channels), list(out_channels), conv_cfg=conv_cfg,
                         norm_cfg=norm_cfg, act_cfg=act_cfg, init_cfg=init_cfg)
