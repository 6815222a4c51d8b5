"""Spiking SSD neck: MMDetection's SSD extra layers with BN + HoyerSpike in every conv."""
import warnings
from typing import Optional, Sequence

from mmdet.models.necks import SSDNeck
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType


@MODELS.register_module()
class HoyerSSDNeck(SSDNeck):
    """MMDetection's :class:`~mmdet.models.necks.SSDNeck` with spiking neurons.

    The extra layers (per level a 1×1 conv then a strided 3×3 conv) are
    ``conv → BN → HoyerSpike``; they read the backbone's last spike map (fc7), so every conv
    in the neck sees binary input and every extra level is a binary spike map. The first
    outputs are the backbone's own maps passed through (conv4_3 and fc7 spikes).

    **L2Norm.** SSD rescales conv4_3 with a learned per-channel L2 normalisation
    (``l2_norm_scale=20``) to bring the ImageNet VGG's large conv4_3 activations to the scale
    of deeper levels. On a spike map it has no such job (every level is already in {0, 1}),
    its output would no longer be binary (the head would read analog values), and positions
    where no channel fires give ``sqrt(0)`` in the forward and a NaN gradient. It is therefore
    off by default (``l2_norm_scale=None``): the head's conv4_3 predictors read the spikes
    directly. Setting a scale restores MMDetection's layer, with a warning that level 0 is
    then analog.

    Args: as ``SSDNeck``; ``norm_cfg`` is BN and ``act_cfg`` ``HoyerSpike`` by default, and
        ``norm_cfg`` must not be None (the neuron thresholds the normalised pre-activation).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (512, 1024),
                 out_channels: Sequence[int] = (512, 1024, 512, 256, 256, 256),
                 level_strides: Sequence[int] = (2, 2, 1, 1),
                 level_paddings: Sequence[int] = (1, 1, 0, 0),
                 l2_norm_scale: Optional[float] = None,
                 last_kernel_size: int = 3,
                 use_depthwise: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 init_cfg=[
                     dict(type='Xavier', distribution='uniform', layer='Conv2d'),
                     dict(type='Constant', val=1, layer='BatchNorm2d'),
                 ]) -> None:
        in_channels, out_channels = list(in_channels), list(out_channels)
        n_extra = len(out_channels) - len(in_channels)
        if n_extra < 1 or out_channels[:len(in_channels)] != in_channels:
            raise ValueError(f'HoyerSSDNeck: out_channels must start with in_channels and add '
                             f'at least one level, got in_channels={in_channels}, '
                             f'out_channels={out_channels}')
        for name, value in (('level_strides', level_strides),
                            ('level_paddings', level_paddings)):
            if len(value) != n_extra:
                raise ValueError(f'HoyerSSDNeck: {name} needs one entry per extra level '
                                 f'({n_extra}), got {list(value)}')
        if norm_cfg is None:
            raise ValueError('HoyerSSDNeck: norm_cfg must not be None: the spiking neuron '
                             'thresholds the normalised pre-activation')
        if l2_norm_scale and act_cfg and act_cfg.get('type') == 'HoyerSpike':
            warnings.warn('HoyerSSDNeck: l2_norm_scale is set, so the conv4_3 level the head '
                          'reads is L2-normalised (analog), not spikes')
        super().__init__(in_channels, out_channels, list(level_strides), list(level_paddings),
                         l2_norm_scale=l2_norm_scale, last_kernel_size=last_kernel_size,
                         use_depthwise=use_depthwise, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                         act_cfg=act_cfg, init_cfg=init_cfg)
