"""Spiking pre-activation ResNet backbone (one time step, Hoyer spiking neurons)."""
from collections import OrderedDict
from typing import List, Sequence, Tuple

from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from .frozen_stages import freeze, train_mode
from .random_init import with_random_init


class NormActConv(nn.Sequential):
    """BN → activation → conv (no bias): the authors' pre-activation unit. With a spiking
    activation the conv always sees binary input."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType,
                 dilation: int = 1) -> None:
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(OrderedDict([
            ('bn', build_norm_layer(norm_cfg, in_channels)[1]),
            ('act', MODELS.build(act_cfg)),
            ('conv', build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size,
                                      stride=stride, padding=padding, dilation=dilation,
                                      bias=False)),
        ]))


class SpikingShortcut(nn.Sequential):
    """Downsampling shortcut of the authors' ResNet: MaxPool(k=s, s=s) → BN → act → conv1×1
    (stride 1). Identity-free shortcut used when the stride or the width changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType) -> None:
        layers = []
        if stride > 1:
            layers.append(('pool', nn.MaxPool2d(kernel_size=stride, stride=stride,
                                                ceil_mode=True)))
        layers += list(NormActConv(in_channels, out_channels, 1, 1, conv_cfg, norm_cfg,
                                   act_cfg).named_children())
        super().__init__(OrderedDict(layers))


class _PreActBlock(nn.Module):
    """``x + units(x)``: pre-activation units (``unit1``, ``unit2``, ...) in a row, the
    :class:`SpikingShortcut` when the stride or the width changes, no activation after the
    addition. ``specs``: ``(in, out, kernel, stride)`` of each unit."""

    def __init__(self, specs: List[Tuple[int, int, int, int]], stride: int,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType) -> None:
        super().__init__()
        for i, (c_in, c_out, k, s) in enumerate(specs, 1):
            self.add_module(f'unit{i}', NormActConv(c_in, c_out, k, s, conv_cfg, norm_cfg,
                                                    act_cfg))
        self.num_units = len(specs)
        c_in, c_out = specs[0][0], specs[-1][1]
        self.shortcut = SpikingShortcut(c_in, c_out, stride, conv_cfg, norm_cfg, act_cfg) \
            if stride != 1 or c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        for i in range(1, self.num_units + 1):
            x = getattr(self, f'unit{i}')(x)
        return identity + x


class PreActBasicBlock(_PreActBlock):
    """x + conv3×3(act(BN(conv3×3(act(BN(x)))))), no activation after the addition."""
    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int, style: str,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType) -> None:
        super().__init__([(in_channels, planes, 3, stride), (planes, planes, 3, 1)], stride,
                         conv_cfg, norm_cfg, act_cfg)


class PreActBottleneck(_PreActBlock):
    """x + conv1×1(act(BN(conv3×3(act(BN(conv1×1(act(BN(x))))))))), no activation after the
    addition. ``style='pytorch'`` strides the 3×3 conv, ``'caffe'`` the first 1×1."""
    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int, style: str,
                 conv_cfg: OptConfigType, norm_cfg: ConfigType, act_cfg: ConfigType) -> None:
        s1, s2 = (1, stride) if style == 'pytorch' else (stride, 1)
        super().__init__([(in_channels, planes, 1, s1), (planes, planes, 3, s2),
                          (planes, planes * self.expansion, 1, 1)], stride,
                         conv_cfg, norm_cfg, act_cfg)


@MODELS.register_module()
class HoyerResNet(BaseModule):
    """Pre-activation ResNet with one-time-step Hoyer spiking neurons (Datta et al.).

    Following the authors' ResNet: stem ``conv7×7/2 → maxpool 3×3/2`` (no norm/activation:
    the first block's BN → spike reads the stem output), then pre-activation blocks
    ``BN → HoyerSpike → conv`` with **no activation after the residual addition**, so the
    residual stream stays real-valued while every conv after the stem sees binary spikes.
    Downsampling shortcuts are ``MaxPool(k=s, s=s) → BN → HoyerSpike → conv1×1``.

    What the backbone emits (``out_mode``):

    - ``'spike'`` (default): each returned stage goes through its own ``BN → HoyerSpike``
      (the "next layer's" spikes), so a spiking neck receives binary maps;
    - ``'residual'``: the real-valued residual stream, as the authors' MMDetection port fed
      an ordinary FPN.

    With ``act_cfg=dict(type='ReLU')`` it is the identical non-spiking network (ANN twin).

    Args:
        depth: 18, 34 (basic blocks), 50, 101 (bottlenecks).
        in_channels: image channels.
        base_channels: stem / first-stage width (64).
        widen_factor: multiplies every width (> 0), for CPU-sized models.
        out_indices: stages (0-3) to return; strides 4, 8, 16, 32.
        out_mode: ``'spike'`` or ``'residual'`` (see above).
        style: ``'pytorch'`` (stride on the 3×3 conv) or ``'caffe'`` (on the first 1×1).
        frozen_stages: -1 (none) .. 4; 0 freezes the stem, i freezes the stem and stages < i.
        conv_cfg, norm_cfg, act_cfg: as in MMCV's ``ConvModule``.
        norm_eval: keep BN layers in eval mode while training.
        init_cfg: MMEngine init config, run after the random init (Kaiming convs, unit BN,
            :func:`~.random_init.with_random_init`); None (default): random. Stage 2 loads a
            stage-1 checkpoint with ``dict(type='Pretrained', prefix='backbone.',
            checkpoint=...)``.
    """

    arch_settings = {
        18: (PreActBasicBlock, (2, 2, 2, 2)),
        34: (PreActBasicBlock, (3, 4, 6, 3)),
        50: (PreActBottleneck, (3, 4, 6, 3)),
        101: (PreActBottleneck, (3, 4, 23, 3)),
    }
    OUT_MODES = ('spike', 'residual')

    def __init__(self,
                 depth: int = 50,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_mode: str = 'spike',
                 style: str = 'pytorch',
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='HoyerSpike'),
                 norm_eval: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=with_random_init(init_cfg))
        if depth not in self.arch_settings:
            raise KeyError(f'HoyerResNet: invalid depth {depth!r}; expected one of '
                           f'{sorted(self.arch_settings)}')
        if not isinstance(widen_factor, (int, float)) or widen_factor <= 0:
            raise ValueError(f'HoyerResNet: widen_factor must be a number > 0, '
                             f'got {widen_factor!r}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not isinstance(i, int) or not 0 <= i < 4 for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError('HoyerResNet: out_indices must be increasing stage indices in 0..3, '
                             f'got {out_indices!r}')
        if out_mode not in self.OUT_MODES:
            raise ValueError(f'HoyerResNet: out_mode must be one of {self.OUT_MODES}, '
                             f'got {out_mode!r}')
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"HoyerResNet: style must be 'pytorch' or 'caffe', got {style!r}")
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= 4:
            raise ValueError(f'HoyerResNet: frozen_stages must be an int in -1..4, '
                             f'got {frozen_stages!r}')
        self.depth, self.out_indices, self.out_mode = depth, out_indices, out_mode
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        block, counts = self.arch_settings[depth]
        width = lambda c: max(1, int(round(c * widen_factor)))  # noqa: E731
        stem = width(base_channels)
        self.stem = nn.Sequential(OrderedDict([
            ('conv', build_conv_layer(conv_cfg, in_channels, stem, 7, stride=2, padding=3,
                                      bias=False)),
            ('pool', nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        self.stages = nn.ModuleList()
        channels: List[int] = []
        prev = stem
        for i, n in enumerate(counts):
            planes = width(base_channels * 2**i)
            blocks = []
            for j in range(n):
                stride = 2 if (j == 0 and i > 0) else 1
                blocks.append(block(prev, planes, stride, style, conv_cfg, norm_cfg, act_cfg))
                prev = planes * block.expansion
            self.stages.append(nn.Sequential(*blocks))
            channels.append(prev)
        self.channels = tuple(channels)
        self.out_acts = nn.ModuleDict()
        if out_mode == 'spike':
            for i in out_indices:
                self.out_acts[str(i)] = nn.Sequential(OrderedDict([
                    ('bn', build_norm_layer(norm_cfg, channels[i])[1]),
                    ('act', MODELS.build(act_cfg))]))
        freeze(self._frozen())

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the returned feature maps (for the neck's ``in_channels``)."""
        return tuple(self.channels[i] for i in self.out_indices)

    def _frozen(self) -> List[nn.Module]:
        """The stem (``frozen_stages ≥ 0``) and the first ``frozen_stages`` stages."""
        stem = [self.stem] if self.frozen_stages >= 0 else []
        return stem + [self.stages[i] for i in range(max(self.frozen_stages, 0))]

    def train(self, mode: bool = True) -> 'HoyerResNet':
        super().train(mode)
        train_mode(self, mode, self._frozen(), self.norm_eval)
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages[:self.out_indices[-1] + 1]):  # deeper: unused
            x = stage(x)
            if i in self.out_indices:
                outs.append(self.out_acts[str(i)](x) if self.out_mode == 'spike' else x)
        return tuple(outs)
