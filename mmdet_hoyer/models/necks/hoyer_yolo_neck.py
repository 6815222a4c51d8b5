"""Spiking YOLOv3 neck: MMDetection's topology with BN + HoyerSpike in every conv."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from mmdet.models.necks import YOLOV3Neck
from mmdet.models.necks.yolo_neck import DetectionBlock
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..layers.membrane_shortcut import (check_shortcut_args, init_branch_gamma,
                                        membrane_forward, prepare_units, same_width_links,
                                        unit_width)


class MembraneDetectionBlock(DetectionBlock):
    """MMDetection's YOLOv3 ``DetectionBlock`` (1×1 c, 3×3 2c, 1×1 c, 3×3 2c, 1×1 c) with
    membrane shortcuts: conv3 adds its BN output to conv1's membrane, conv4 to conv2's, conv5
    to conv3's (:mod:`mmdet_hoyer.models.layers.membrane_shortcut`). Same parameters and
    names as ``DetectionBlock``; every conv still reads spikes.

    Args: as ``DetectionBlock``, plus ``branch_gamma``: initial BN γ of conv3-conv5 (``None``:
        ConvModule's init, 1).
    """

    def __init__(self, *args, branch_gamma: Optional[float] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.branch_gamma = branch_gamma
        prepare_units(type(self).__name__, self.units)
        self.links = same_width_links([unit_width(u) for u in self.units])

    @property
    def units(self):
        return [self.conv1, self.conv2, self.conv3, self.conv4, self.conv5]

    def forward(self, x: Tensor) -> Tensor:
        """Spikes of conv5."""
        return membrane_forward(self.units, self.links, x)

    def init_weights(self) -> None:
        super().init_weights()
        init_branch_gamma(self.units, self.links, self.branch_gamma)


@MODELS.register_module()
class HoyerYOLOV3Neck(YOLOV3Neck):
    """MMDetection's :class:`~mmdet.models.necks.YOLOV3Neck` with spiking neurons.

    Every ``ConvModule`` of the neck (five-conv detection blocks and the 1×1 lateral convs) is
    ``conv → BN → HoyerSpike``, and by default each detection block has membrane shortcuts.
    Nearest upsampling and channel concatenation keep spike maps
    binary, so with a spiking backbone every conv in the neck sees binary input and the neck
    emits binary maps. The topology is MMDetection's own (this class only changes defaults and
    checks them).

    Args:
        num_scales, in_channels, out_channels, conv_cfg: as ``YOLOV3Neck``.
        norm_cfg: normalisation before each neuron (BN by default; required by the neuron).
        act_cfg: the spiking neuron config (``HoyerSpike`` by default).
        shortcut: ``'membrane'`` (default): each detection block's conv3-conv5 add their BN
            output to the membrane of the previous conv of the same width
            (:class:`MembraneDetectionBlock`); same parameters and synaptic operations.
            ``'none'``: MMDetection's plain blocks.
        branch_gamma: with ``shortcut='membrane'``, initial BN γ of conv3-conv5 of each block
            (default 0.2; ``None``: ConvModule's 1).
        backbone_skip: each level's output also carries the backbone map the level was built
            from, concatenated after the neck's map (deepest first: ``[o_i, c_i]``), so the
            head reads it through its one 3×3 bridge conv as the SSD's head reads conv4_3. The
            head's ``in_channels`` become ``out_channels[i] + in_channels[i]``. With a spiking
            backbone the concatenation is binary; no parameter is added to the neck.
    """

    def __init__(self,
                 num_scales: int,
                 in_channels: List[int],
                 out_channels: List[int],
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 shortcut: str = 'membrane',
                 branch_gamma: Optional[float] = 0.2,
                 backbone_skip: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        for name, value in (('in_channels', in_channels), ('out_channels', out_channels)):
            if not isinstance(value, (list, tuple)) or len(value) != num_scales:
                raise ValueError(f'HoyerYOLOV3Neck: {name} must be a list of {num_scales} ints '
                                 f'(one per scale, deepest first), got {value!r}')
        if norm_cfg is None:
            raise ValueError('HoyerYOLOV3Neck: norm_cfg must not be None: the spiking neuron '
                             'thresholds the normalised pre-activation')
        check_shortcut_args('HoyerYOLOV3Neck', shortcut, branch_gamma)
        if not isinstance(backbone_skip, bool):
            raise ValueError(f'HoyerYOLOV3Neck: backbone_skip must be True or False, got '
                             f'{backbone_skip!r}')
        self.backbone_skip = backbone_skip
        super().__init__(num_scales, list(in_channels), list(out_channels), conv_cfg=conv_cfg,
                         norm_cfg=norm_cfg, act_cfg=act_cfg, init_cfg=init_cfg)
        self.shortcut = shortcut
        if shortcut == 'membrane':  # the same blocks, with membrane shortcuts
            cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                       branch_gamma=branch_gamma)
            for i in range(num_scales):
                block = getattr(self, f'detect{i + 1}')
                setattr(self, f'detect{i + 1}', MembraneDetectionBlock(
                    block.conv1.conv.in_channels, block.conv1.conv.out_channels, **cfg))

    def forward(self, feats: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        if len(feats) != self.num_scales:
            raise ValueError(f'HoyerYOLOV3Neck: expected {self.num_scales} feature maps, got '
                             f'{len(feats)}')
        outs = super().forward(feats)
        if self.backbone_skip:  # the backbone's map of each level after the neck's
            outs = tuple(torch.cat((o, c), 1) for o, c in zip(outs, reversed(feats)))
        return outs
