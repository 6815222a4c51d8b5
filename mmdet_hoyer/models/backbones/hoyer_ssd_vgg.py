"""Spiking VGG16 in SSD's layout (conv4_3 and fc7 outputs, dilated fc6, ceil-mode pooling)."""
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor, nn
from torch.nn import functional as F

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..layers.membrane_shortcut import (init_branch_gamma, membrane_forward, pad_stream,
                                        prepare_units, unit_width)
from .hoyer_vgg import UNPOOLED_CONV4_CONV5, ConvPoolNormAct, HoyerVGG


class FCStage(nn.Sequential):
    """SSD's last VGG stage: 3×3 stride-1 max pool, fc6 (dilated 3×3), fc7 (1×1).

    With ``shortcut=True`` fc7 adds its BN output to fc6's membrane (a membrane shortcut,
    :mod:`~mmdet_hoyer.models.layers.membrane_shortcut`, ``m7 = m6 + z7``; fc6 and fc7 have
    the same width) and its BN γ starts at ``branch_gamma``; otherwise the units run in a row.
    Parameter names are those of the plain ``nn.Sequential`` either way (0: pool, 1: fc6,
    2: fc7).

    ``stream_in`` (set by the backbone's ``widening_shortcut``, needs ``shortcut``): fc6 also
    continues conv5_3's membrane stream, through pool5's window like the spikes (its average
    with the backbone's ``pool_on='spikes'``) and zero-padded to fc6's width,
    ``m6 = pad(pool5(m5_3)) + z6``.
    """

    #: fc6 adds the previous stage's membrane (see the class docstring)
    stream_in = False
    #: the incoming stream's width (conv5_3's; static for traced exports)
    stream_channels: Optional[int] = None
    #: the stream crosses pool5 as an average (the backbone's pool_on='spikes'), else a max
    stream_avg_pool = False

    def __init__(self, pool: nn.Module, fc6: nn.Module, fc7: nn.Module, shortcut: bool,
                 branch_gamma: Optional[float] = None) -> None:
        super().__init__(pool, fc6, fc7)
        self.shortcut = shortcut
        self.branch_gamma = branch_gamma
        if shortcut:
            prepare_units(type(self).__name__, (fc6, fc7))

    def forward(self, x: Tensor, stream: Optional[Tensor] = None,
                return_membrane: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        if stream is not None:
            if not self.stream_in:
                raise ValueError('FCStage: got a stream but stream_in is False')
            # pool5's window, applied functionally (the module pools only the spikes, so a
            # deployment check that hooks it sees the spikes' pool alone); an average with the
            # backbone's pool_on='spikes', as every stream that crosses a pool of spikes there
            pool = self[0]
            stream = F.avg_pool2d(stream, pool.kernel_size, pool.stride, pool.padding,
                                  ceil_mode=pool.ceil_mode) if self.stream_avg_pool else \
                F.max_pool2d(stream, pool.kernel_size, pool.stride, pool.padding,
                             pool.dilation, ceil_mode=pool.ceil_mode)
            stream = pad_stream('FCStage', stream, unit_width(self[1]), self.stream_channels)
        if not self.shortcut:
            out = super().forward(x)
            return (out, None) if return_membrane else out
        return membrane_forward((self[1], self[2]), (None, 0), self[0](x), stream=stream,
                                return_membrane=return_membrane)

    def init_weights(self) -> None:
        if self.shortcut:
            init_branch_gamma((self[1], self[2]), (None, 0), self.branch_gamma, self.stream_in)


@MODELS.register_module()
class HoyerSSDVGG(HoyerVGG):
    """:class:`HoyerVGG` with the layout of MMDetection's ``SSDVGG`` (Liu et al., SSD), every
    conv followed by BN + ``HoyerSpike`` (Datta et al., arXiv 2212.10170).

    Stages (VGG16, 300² input; widths before ``widen_factor``):

    ====== ========================================================== ======== ===========
    index  layers                                                      stride   300² map
    ====== ========================================================== ======== ===========
    0-2    conv1-conv3, each stage ending in a 2×2 ceil-mode pool of   2, 4, 8  75²
           its last pre-activation (the authors' VGG unit)
    3      conv4_1-conv4_3 (512), **no pool**: the conv4_3 spike map   8        38²
    4      2×2 ceil-mode max pool of the conv4_3 spikes, conv5_1-5_3   16       19²
    5      3×3 stride-1 max pool, fc6 (3×3, dilation 6, 1024),         16       19²
           fc7 (1×1, 1024)
    ====== ========================================================== ======== ===========

    ``out_indices=(3, 5)`` (default) gives SSD's two backbone maps, conv4_3 and fc7, both binary
    spikes. SSD reads conv4_3 *before* pool4 and pools conv5_3's output before fc6, so these
    two pools act on spikes rather than on pre-activations: the max of binary values is binary,
    so every conv after the first still sees binary inputs. With ``act_cfg=dict(type='ReLU')``
    it is the identical non-spiking network (the ANN twin).

    Args: as :class:`HoyerVGG` (``depth`` 11/13/16/19, default 16; ``ceil_mode`` is always on);
        ``fc_channels`` is the width of fc6/fc7 before ``widen_factor`` (1024 in SSD).
        ``shortcut='membrane'`` applies to stages 0-4 (the VGG stages);
        ``fc_shortcut=True`` adds one across fc7 too (fc7's BN output onto fc6's membrane,
        :class:`FCStage`; with ``branch_gamma``; False: plain fc6/fc7), and
        ``cross_stage_shortcut=True`` continues conv4_3's stream into conv5_1 through pool4
        (:class:`HoyerVGG`). Both keep class information at stride 16 that the layout without
        them loses (docs/research/accuracy.md). ``widening_shortcut=True``
        (needs both) carries the stream across the widening boundaries too: stages 0-3
        (zero-padded, as :class:`HoyerVGG`'s) and conv5_3 into fc6 through pool5
        (:class:`FCStage`), where the layout without it loses the box offset
        (docs/research/accuracy.md). ``None`` (default, all three): on with
        ``shortcut='membrane'`` (the widening one only when the other two are on), off with
        ``shortcut='none'``; True needs 'membrane'.
        ``pool_on`` applies to the pools of stages 0-2 (pool4 and pool5 already pool spikes).
    """

    def __init__(self,
                 depth: int = 16,
                 in_channels: int = 3,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (3, 5),
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 norm_eval: bool = False,
                 fc_channels: int = 1024,
                 shortcut: str = 'membrane',
                 branch_gamma: Optional[float] = 0.2,
                 fc_shortcut: Optional[bool] = None,
                 cross_stage_shortcut: Optional[bool] = None,
                 widening_shortcut: Optional[bool] = None,
                 pool_on: str = 'pre_activation',
                 init_cfg: OptMultiConfig = None) -> None:
        if not isinstance(fc_channels, int) or fc_channels < 1:
            raise ValueError(f'HoyerSSDVGG: fc_channels must be an int >= 1, got {fc_channels!r}')
        for key, value in (('fc_shortcut', fc_shortcut),
                           ('cross_stage_shortcut', cross_stage_shortcut),
                           ('widening_shortcut', widening_shortcut)):
            if value is not None and not isinstance(value, bool):
                raise ValueError(f'HoyerSSDVGG: {key} must be None, True or False, got '
                                 f'{value!r}')
            if value and shortcut != 'membrane':
                raise ValueError(f"HoyerSSDVGG: {key}=True needs shortcut='membrane', got "
                                 f'shortcut={shortcut!r}')
        membrane = shortcut == 'membrane'
        fc_shortcut = membrane if fc_shortcut is None else fc_shortcut
        if widening_shortcut is True and not fc_shortcut:
            raise ValueError('HoyerSSDVGG: widening_shortcut=True needs fc_shortcut (the conv5_3 '
                             'stream joins fc6, whose stream fc7 continues)')
        cross_stage_shortcut = membrane if cross_stage_shortcut is None else cross_stage_shortcut
        if widening_shortcut is None:
            widening_shortcut = membrane and fc_shortcut and cross_stage_shortcut
        self.fc_channels = fc_channels
        self.fc_shortcut = fc_shortcut
        super().__init__(depth=depth, in_channels=in_channels, widen_factor=widen_factor,
                         out_indices=out_indices, frozen_stages=frozen_stages,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                         norm_eval=norm_eval, ceil_mode=True, shortcut=shortcut,
                         branch_gamma=branch_gamma,
                         cross_stage_shortcut=cross_stage_shortcut,
                         widening_shortcut=widening_shortcut, pool_on=pool_on,
                         init_cfg=init_cfg)

    def _make_stages(self, in_channels: int, conv_cfg: OptConfigType, norm_cfg: ConfigType,
                     act_cfg: ConfigType, ceil_mode: bool) -> nn.ModuleList:
        # conv4_3 and conv5_3 un-pooled; pool4 pools conv4_3's spikes in conv5_1's block, so
        # stages 0-4 have HoyerVGG's parameter names (a HoyerVGG checkpoint loads into them)
        stages = super()._make_stages(in_channels, conv_cfg, norm_cfg, act_cfg, ceil_mode,
                                      **UNPOOLED_CONV4_CONV5)
        c5, fc = self.channels[4], self._width(self.fc_channels)
        stages.append(FCStage(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            ConvPoolNormAct(c5, fc, pool=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                            act_cfg=act_cfg, kernel_size=3, dilation=6),  # fc6
            ConvPoolNormAct(fc, fc, pool=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                            act_cfg=act_cfg, kernel_size=1),  # fc7
            shortcut=self.fc_shortcut, branch_gamma=self.branch_gamma))
        self.channels = self.channels + (fc, )
        stages[-1].stream_in = self.widening_shortcut
        stages[-1].stream_channels = self.channels[4]
        stages[-1].stream_avg_pool = self.pool_on == 'spikes'
        return stages
