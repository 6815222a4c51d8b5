"""Spiking VGG backbone (one time step, Hoyer spiking neurons)."""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..layers.membrane_shortcut import (MembraneShortcutStage, check_membrane_option,
                                        check_shortcut_args, unit_width)
from .frozen_stages import freeze, train_mode
from .random_init import with_random_init


#: where a VGG unit's 2×2 max pool sits (``pool_on`` of :class:`HoyerVGG`)
POOL_ON = ('pre_activation', 'spikes')
#: the stage pools of SSD's VGG (``HoyerVGG._make_stages`` arguments): conv4_3 and conv5_3
#: un-pooled, pool4 max-pools conv4_3's spikes at conv5_1's input (``tap_before_pool``)
UNPOOLED_CONV4_CONV5 = dict(pool_last=(True, True, True, False, False),
                            pool_first_input=(False, False, False, False, True))


class ConvPoolNormAct(nn.Sequential):
    """[MaxPool 2×2 of the input] → Conv (3×3 by default, no bias) → [MaxPool 2×2] → norm →
    activation [→ MaxPool 2×2], the authors' VGG unit.

    ``pool_on='pre_activation'`` (the authors' order) pools the conv output before the norm and
    the neuron: the pooled *pre-activation* is thresholded, so the block's output stays binary
    when the activation is a spiking neuron. ``pool_on='spikes'`` pools after the neuron
    (child ``pool_out``): the max of binary spikes is their OR, an exact sum-and-threshold in a
    neuromorphic graph (NIR has no max pool of analog values). ``pool_input`` pools the
    block's input instead (SSD's VGG, whose conv4_3 map is read before pool4): the max of
    binary spikes is binary, so the conv still sees spikes. ``stream_pool`` (an average pool,
    set by the backbone) is the pool an incoming membrane stream takes where the spikes were
    max-pooled after the previous unit's neuron; the unit's own forward never runs it.
    """

    def __init__(self, in_channels: int, out_channels: int, pool: bool,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType,
                 kernel_size: int = 3, dilation: int = 1, ceil_mode: bool = False,
                 pool_input: bool = False, pool_on: str = 'pre_activation') -> None:
        layers = []
        if pool_input:
            layers.append(('pool_in', nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode)))
        layers.append(('conv', build_conv_layer(conv_cfg, in_channels, out_channels,
                                                kernel_size, padding=dilation * (kernel_size // 2),
                                                dilation=dilation, bias=False)))
        if pool and pool_on == 'pre_activation':
            layers.append(('pool', nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode)))
        layers.append(('bn', build_norm_layer(norm_cfg, out_channels)[1]))
        # mmdet's registry (not mmcv's root one) so HoyerSpike resolves without a default scope
        layers.append(('act', MODELS.build(act_cfg)))
        if pool and pool_on == 'spikes':
            layers.append(('pool_out', nn.MaxPool2d(kernel_size=2, stride=2,
                                                    ceil_mode=ceil_mode)))
        super().__init__(OrderedDict(layers))

    def forward(self, x: Tensor) -> Tensor:
        for name, layer in self.named_children():
            if name != 'stream_pool':
                x = layer(x)
        return x


@MODELS.register_module()
class HoyerVGG(BaseModule):
    """VGG with one-time-step Hoyer spiking neurons (Datta et al., arXiv 2212.10170).

    Every conv is ``Conv3×3(bias=False) → [MaxPool] → BN → HoyerSpike``, as in the authors'
    VGG; the first conv receives the analog image (direct encoding, one time step), so all
    later convs see binary spikes. By default the convs of a stage after its first add their
    BN output to the previous neuron's membrane (``shortcut='membrane'``): the authors' plain
    stack (``shortcut='none'``) does not learn from scratch in our measurements. The network
    has five stages, each ending with a 2×2 max pool; stage ``i`` has stride ``2**(i+1)``
    (strides 8/16/32 for ``out_indices=(2, 3, 4)``; ``tap_before_pool`` moves the taps).

    With ``act_cfg=dict(type='ReLU')`` it is the identical non-spiking network (the ANN twin).

    Args:
        depth: 11, 13, 16 or 19.
        in_channels: image channels.
        widen_factor: multiplies every stage width (64, 128, 256, 512, 512); > 0.
        out_indices: stages (0-4) whose outputs are returned, in increasing order.
        frozen_stages: number of leading stages whose parameters are frozen and whose
            norm/spiking layers are kept in eval mode; -1 freezes nothing.
        conv_cfg, norm_cfg, act_cfg: as in MMCV's ``ConvModule``.
        norm_eval: keep BN layers in eval mode while training (their statistics frozen).
        ceil_mode: ceil instead of floor in the 2×2 poolings' output size (SSD's VGG).
        shortcut: ``'membrane'`` (default): inside each stage, every conv after the first adds
            its BN output to the previous neuron's input
            (:class:`~mmdet_hoyer.models.layers.MembraneShortcutStage`), so the neurons see a
            real-valued running sum while every conv still reads spikes; same parameters, same
            synaptic operations. ``'none'``: the authors' plain VGG, which trains from scratch
            only through a warm-up or a ReLU anneal (docs/research/accuracy.md).
        branch_gamma: with ``shortcut='membrane'``, initial BN γ of the convs that add to the
            stream (default 0.2, as EMS-YOLO's residual branches; ``None``: the init_cfg's 1).
        cross_stage_shortcut: with ``shortcut='membrane'``, a stage whose first conv has the
            width of the previous stage's last conv continues that stage's stream: its first
            neuron sees ``pool(m_prev) + z`` (the pool the spikes take between the two convs,
            or none) instead of ``z`` alone. In VGG16 this is conv4_3 → conv5_1 (512 → 512),
            the only boundary of equal width. Still no added parameter or synaptic operation.
        widening_shortcut: with ``cross_stage_shortcut``, the stages whose first conv is
            *wider* than the previous stage's last conv continue its stream too: the incoming
            membrane fills their first channels and the new ones start from their own BN
            output alone (ResNet's zero-padded identity, option A; no parameter). In VGG16
            every stage boundary then carries the stream (64 → 128 → 256 → 512 → 512).
        pool_on: where each stage's 2×2 max pool sits: ``'pre_activation'`` (default, the
            authors' order: the conv output is pooled before BN and the neuron, and a membrane
            stream is max-pooled with it) or ``'spikes'`` (after the neuron: the OR of the
            spikes; a membrane stream crossing the pool is average-pooled). Only ``'spikes'``
            is exactly expressible in NIR, which has no max pool of analog values
            (tools/deployment/export_nir.py). Same parameters either way.
        tap_before_pool: read conv4_3 and conv5_3 *before* their pools, as SSD reads conv4_3:
            stages 3 and 4 keep their resolution (conv4_3's spike map at stride 8, conv5_3's
            at stride 16), pool4 pools conv4_3's spikes at conv5_1's input, and a sixth,
            parameter-free stage (index 5) max-pools conv5_3's spikes to stride 32. With
            ``out_indices=(3, 4, 5)`` a three-level neck reads, at strides 8/16/32, units
            10/13/13 convs deep instead of 7/10/13 (``(2, 3, 4)`` without it). Same
            parameters, same convs at the same resolutions; only where pool4 and pool5 sit
            changes (docs/research/accuracy.md).
        init_cfg: MMEngine init config, run after the random init (Kaiming convs, unit BN,
            :func:`~.random_init.with_random_init`); None (default): random. Stage 2 loads a
            stage-1 checkpoint with ``dict(type='Pretrained', prefix='backbone.',
            checkpoint=...)``.
    """

    arch_settings = {
        11: (1, 1, 2, 2, 2),
        13: (2, 2, 2, 2, 2),
        16: (2, 2, 3, 3, 3),
        19: (2, 2, 4, 4, 4),
    }
    stage_channels = (64, 128, 256, 512, 512)

    def __init__(self,
                 depth: int = 16,
                 in_channels: int = 3,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (2, 3, 4),
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 norm_eval: bool = False,
                 ceil_mode: bool = False,
                 shortcut: str = 'membrane',
                 branch_gamma: Optional[float] = 0.2,
                 cross_stage_shortcut: bool = False,
                 widening_shortcut: bool = False,
                 pool_on: str = 'pre_activation',
                 tap_before_pool: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=with_random_init(init_cfg))
        name = type(self).__name__
        if pool_on not in POOL_ON:
            raise ValueError(f'{name}: pool_on must be one of {POOL_ON}, got {pool_on!r}')
        if not isinstance(tap_before_pool, bool):
            raise ValueError(f'{name}: tap_before_pool must be True or False, got '
                             f'{tap_before_pool!r}')
        self.tap_before_pool = tap_before_pool
        self.pool_on = pool_on
        if depth not in self.arch_settings:
            raise KeyError(f'{name}: invalid depth {depth!r}; expected one of '
                           f'{sorted(self.arch_settings)}')
        if not isinstance(widen_factor, (int, float)) or widen_factor <= 0:
            raise ValueError(f'{name}: widen_factor must be a number > 0, got {widen_factor!r}')
        check_shortcut_args(name, shortcut, branch_gamma)
        check_membrane_option(name, 'cross_stage_shortcut', cross_stage_shortcut, shortcut)
        check_membrane_option(name, 'widening_shortcut', widening_shortcut, shortcut)
        if widening_shortcut and not cross_stage_shortcut:
            raise ValueError(f'{name}: widening_shortcut=True needs cross_stage_shortcut=True')
        self.cross_stage_shortcut = cross_stage_shortcut
        self.widening_shortcut = widening_shortcut  # before _make_stages (SSD's fc6 reads it)
        self.depth = depth
        self.widen_factor = widen_factor
        self.shortcut = shortcut
        self.branch_gamma = branch_gamma
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        if tap_before_pool:
            self.stages = self._make_stages(in_channels, conv_cfg, norm_cfg, act_cfg, ceil_mode,
                                            **UNPOOLED_CONV4_CONV5)
            # pool5: the OR of conv5_3's spikes (binary), no parameter
            self.stages.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
            self.channels = self.channels + self.channels[-1:]
        else:
            self.stages = self._make_stages(in_channels, conv_cfg, norm_cfg, act_cfg, ceil_mode)
        if cross_stage_shortcut:
            self._link_stages()
        num_stages = len(self.stages)
        out_indices = tuple(out_indices)
        if not out_indices or any(not isinstance(i, int) or not 0 <= i < num_stages
                                  for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError(f'{name}: out_indices must be increasing stage indices in '
                             f'0..{num_stages - 1}, got {out_indices!r}')
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'{name}: frozen_stages must be an int in -1..{num_stages}, '
                             f'got {frozen_stages!r}')
        self.out_indices = out_indices
        freeze(self._frozen())

    def _width(self, channels: int) -> int:
        return max(1, int(round(channels * self.widen_factor)))

    def _make_stages(self, in_channels: int, conv_cfg: OptConfigType, norm_cfg: ConfigType,
                     act_cfg: ConfigType, ceil_mode: bool,
                     pool_last: Sequence[bool] = (True, ) * 5,
                     pool_first_input: Sequence[bool] = (False, ) * 5) -> nn.ModuleList:
        """The five VGG stages. By default each ends with a 2×2 pool of its last
        pre-activation; ``pool_last[i]=False`` drops it and ``pool_first_input[i]=True`` pools
        the stage's input instead. Sets ``self.channels`` (output channels of every stage)."""
        self.channels = tuple(self._width(c) for c in self.stage_channels)
        stages = ModuleList()  # MMEngine's: its children's init_weights run (branch_gamma)
        prev = in_channels
        for i, (num_convs, width) in enumerate(zip(self.arch_settings[self.depth],
                                                   self.channels)):
            blocks = []
            for j in range(num_convs):
                blocks.append(ConvPoolNormAct(
                    prev, width, pool=pool_last[i] and j == num_convs - 1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg, ceil_mode=ceil_mode,
                    pool_input=pool_first_input[i] and j == 0, pool_on=self.pool_on))
                prev = width
            stages.append(self._stage(blocks))
        return stages

    def _stage(self, blocks: Sequence[nn.Module]) -> nn.Sequential:
        """One stage of units: plain, or with membrane shortcuts (``shortcut='membrane'``)."""
        if self.shortcut == 'membrane':
            return MembraneShortcutStage(*blocks, branch_gamma=self.branch_gamma)
        return nn.Sequential(*blocks)

    def _link_stages(self) -> None:
        """Mark every membrane stage whose first conv has the width of the previous stage's
        last conv (or more, with ``widening_shortcut``) as continuing that stage's stream."""
        for prev, stage in zip(self.stages[:-1], self.stages[1:]):
            if not (isinstance(prev, MembraneShortcutStage)
                    and isinstance(stage, MembraneShortcutStage)):
                continue
            width_in, width = unit_width(prev[-1]), unit_width(stage[0])
            if width_in == width or (self.widening_shortcut and width_in < width):
                stage.stream_in = True
                stage.stream_channels = width_in
                pooled = getattr(prev[-1], 'pool_out', None) or getattr(stage[0], 'pool_in', None)
                if self.pool_on == 'spikes' and pooled is not None:
                    # the spikes cross the stage boundary through a max pool (their OR); the
                    # analog stream through the average pool of the same window
                    stage[0].stream_pool = nn.AvgPool2d(2, 2, ceil_mode=pooled.ceil_mode)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the returned feature maps (for the neck's ``in_channels``)."""
        return tuple(self.channels[i] for i in self.out_indices)

    def _frozen(self) -> List[nn.Module]:
        """The first ``frozen_stages`` stages."""
        return [self.stages[i] for i in range(max(self.frozen_stages, 0))]

    def train(self, mode: bool = True) -> 'HoyerVGG':
        super().train(mode)
        train_mode(self, mode, self._frozen(), self.norm_eval)
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        stream = None  # the last membrane of the previous stage, when a stage continues it
        for i, stage in enumerate(self.stages[:self.out_indices[-1] + 1]):  # deeper: unused
            if self.cross_stage_shortcut and hasattr(stage, 'stream_in'):  # a membrane stage
                x, stream = stage(x, stream=stream if stage.stream_in else None,
                                  return_membrane=True)
            else:
                x, stream = stage(x), None
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
