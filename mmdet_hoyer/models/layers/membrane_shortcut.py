"""Membrane shortcuts: identity shortcuts on the real-valued pre-activation stream.

A plain stack of one-time-step spiking layers thresholds every layer's input afresh; a deep
random stack of them is chaotic and hard to train (docs/research/accuracy.md). Spiking ResNets keep a
real-valued stream instead: the authors' pre-activation ResNet adds conv outputs to a
real-valued residual stream; EMS-YOLO and MS-ResNet add each branch's BN output to the membrane
potential of the next neuron. Here a run of conv units (``conv → [pool] → norm → neuron``) gets
the same: each unit adds its pre-activation ``z_j`` to the membrane of the latest earlier unit
of the same width ``k(j)``,

    m_j = pool_j(m_{k(j)}) + z_j   (m_j = z_j when no earlier unit has j's width),
    o_j = neuron(m_j),             z_j = BN(pool_j(conv_j(o_{j-1}))),

(with a backbone's ``pool_on='spikes'`` a unit's pool follows its neuron instead, ``o_j =
pool(neuron(m_j))``, and a stream crossing it is average-pooled),

so every conv still reads the previous unit's binary spikes ``o`` and only the neurons' inputs
change: no parameter and no synaptic operation is added (the sums are on the membrane, as a
neuron integrates its inputs). ``pool_j`` is the unit's own 2×2 max pool (identity for units
without one). In a VGG stage ``k(j) = j − 1``; in YOLOv3's detection block (widths c, 2c, c, 2c,
c) ``k(j) = j − 2``.

A unit is an MMCV ``ConvModule`` (pre-activation ``unit(x, activate=False)``, neuron
``unit.activate``) or an ``nn.Sequential`` whose last child is the neuron, named ``act``, or
the neuron followed by a max pool of its spikes, ``pool_out``.
"""
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import Sequential
import torch
import torch.fx
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.modules.batchnorm import _BatchNorm


#: the ``shortcut`` values of the backbones and necks that offer membrane shortcuts
SHORTCUTS = ('none', 'membrane')


def check_shortcut_args(owner: str, shortcut: str, branch_gamma: Optional[float]) -> None:
    """``ValueError`` naming ``owner`` and the field for a ``shortcut`` outside
    :data:`SHORTCUTS` or a ``branch_gamma`` that is neither None nor a number ≥ 0."""
    if shortcut not in SHORTCUTS:
        raise ValueError(f'{owner}: shortcut must be one of {SHORTCUTS}, got {shortcut!r}')
    if branch_gamma is not None and (isinstance(branch_gamma, bool)
                                     or not isinstance(branch_gamma, (int, float))
                                     or branch_gamma < 0):
        raise ValueError(f'{owner}: branch_gamma must be None or a number >= 0, got '
                         f'{branch_gamma!r}')


def same_width_links(widths: Sequence[Optional[int]]) -> List[Optional[int]]:
    """For each unit, the index of the latest earlier unit with the same output width, or
    ``None`` (the unit starts a new stream)."""
    links: List[Optional[int]] = []
    for j, width in enumerate(widths):
        earlier = [k for k in range(j) if width is not None and widths[k] == width]
        links.append(earlier[-1] if earlier else None)
    return links


def unit_width(unit: nn.Module) -> Optional[int]:
    """Output channels of the unit's last conv (``None`` without one)."""
    channels = None
    for m in unit.modules():
        if isinstance(m, nn.Conv2d):
            channels = m.out_channels
    return channels


def pre_activation(unit: nn.Module, x: Tensor) -> Tensor:
    """The unit's output before its neuron (its children up to ``act``; ``stream_pool`` is the
    incoming stream's, not the unit's)."""
    if isinstance(unit, ConvModule):
        return unit(x, activate=False)
    for name, layer in unit.named_children():
        if name == 'act':
            break
        if name != 'stream_pool':
            x = layer(x)
    return x


def post_activation(unit: nn.Module, spikes: Tensor) -> Tensor:
    """The unit's layers after its neuron (a max pool of the spikes, ``pool_out``), if any."""
    pool = getattr(unit, 'pool_out', None)
    return spikes if pool is None else pool(spikes)


def neuron(unit: nn.Module) -> nn.Module:
    """The unit's neuron (activation)."""
    return unit.activate if isinstance(unit, ConvModule) else unit.act


def prepare_units(owner: str, units: Sequence[nn.Module]) -> None:
    """Check that every unit is a ``ConvModule`` with an activation or ends with a child
    ``act``, and make in-place activations (MMCV builds ReLU with ``inplace=True``) out of
    place: the membrane they read is needed again by a later unit."""
    for i, unit in enumerate(units):
        if isinstance(unit, ConvModule):
            if not unit.with_activation:
                raise ValueError(f'{owner}: unit {i} (ConvModule) has no activation to receive '
                                 'the membrane shortcut (act_cfg is None)')
        else:
            names = [n for n, _ in unit.named_children() if n != 'stream_pool']
            if 'act' not in names or names[names.index('act') + 1:] not in ([], ['pool_out']):
                raise ValueError(f"{owner}: unit {i} must be a ConvModule or end with a child "
                                 f"named 'act' (the neuron), optionally followed by 'pool_out', "
                                 f'got children {names}')
        if getattr(neuron(unit), 'inplace', False):
            neuron(unit).inplace = False


def stream_pool(unit: nn.Module) -> Optional[nn.Module]:
    """The pool a stream takes on its way into ``unit``: its ``stream_pool`` (an average pool
    where the spikes were pooled after the previous neuron), else the unit's own pool
    (``pool``, after its conv) or the pool of its input (``pool_in``); ``None`` when the unit
    keeps the resolution."""
    for name in ('stream_pool', 'pool', 'pool_in'):
        pool = getattr(unit, name, None)
        if pool is not None:
            return pool
    return None


def check_membrane_option(owner: str, key: str, value, shortcut: str) -> None:
    """``ValueError`` naming ``owner`` and ``key`` unless ``value`` is a bool, and True only
    with ``shortcut='membrane'`` (the options that extend the membrane streams)."""
    if not isinstance(value, bool):
        raise ValueError(f'{owner}: {key} must be True or False, got {value!r}')
    if value and shortcut != 'membrane':
        raise ValueError(f"{owner}: {key}=True needs shortcut='membrane', got "
                         f'shortcut={shortcut!r}')


def pad_stream(owner: str, stream: Tensor, width: Optional[int],
               channels: Optional[int] = None) -> Tensor:
    """``stream``, built to be ``channels`` wide (``None``: ``width``), zero-padded to the
    joining unit's ``width`` (ResNet's option-A identity). The widths are the module's static
    ones, so ``torch.fx`` traces (the deployment exports, whose proxies have no shape) pad the
    same; an eager stream of another width is a ``ValueError`` naming ``owner``."""
    expected = width if channels is None else channels
    if not isinstance(stream, torch.fx.Proxy) and expected is not None \
            and stream.shape[1] != expected:
        raise ValueError(f'{owner}: the incoming membrane stream has {stream.shape[1]} channels, '
                         f'the first unit {width}'
                         + (f' (built for a stream of {channels})' if channels else ''))
    if channels is None or width is None or channels == width:
        return stream
    if channels > width:
        raise ValueError(f'{owner}: a stream of {channels} channels cannot join a unit of '
                         f'{width} (only narrower streams are zero-padded)')
    return F.pad(stream, (0, 0, 0, 0, 0, width - channels))


def membrane_forward(units: Sequence[nn.Module], links: Sequence[Optional[int]], x: Tensor,
                     stream: Optional[Tensor] = None,
                     return_membrane: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """Run ``units`` in a row with membrane shortcuts ``m_j = pool_j(m_{links[j]}) + z_j``;
    returns the last unit's neuron output (and its membrane with ``return_membrane``).

    ``stream``: the membrane of a preceding run (e.g. the previous stage's last unit), added to
    the first unit's pre-activation as ``m_0 = pool_0(stream) + z_0`` (``links[0]`` must be
    ``None``)."""
    membranes: List[Tensor] = []
    for j, (unit, link) in enumerate(zip(units, links)):
        m = pre_activation(unit, x)
        source = membranes[link] if link is not None else (stream if j == 0 else None)
        if source is not None:
            pool = stream_pool(unit)
            m = (pool(source) if pool is not None else source) + m
        membranes.append(m)
        x = post_activation(unit, neuron(unit)(m))
    return (x, membranes[-1]) if return_membrane else x


def init_branch_gamma(units: Sequence[nn.Module], links: Sequence[Optional[int]],
                      gamma: Optional[float], stream_in: bool = False) -> None:
    """Set the norm γ of every unit that adds to a stream (its "residual branch") to
    ``gamma`` (with ``stream_in`` also the first unit, which adds to an incoming stream);
    ``None`` leaves them alone."""
    if gamma is None:
        return
    for j, (unit, link) in enumerate(zip(units, links)):
        for m in unit.modules() if link is not None or (stream_in and j == 0) else ():
            if isinstance(m, _BatchNorm) and m.weight is not None:
                nn.init.constant_(m.weight, gamma)


class MembraneShortcutStage(Sequential):
    """A run of conv units with membrane shortcuts (see the module docstring).

    Parameter names are those of a plain ``nn.Sequential`` of the same units, so checkpoints
    load either way.

    Args:
        *units: the units, in order.
        branch_gamma: initial γ of the norm layer of every unit that adds to a stream, set by
            :meth:`init_weights` after the parent's init (MMEngine runs children's
            ``init_weights`` after the parent's own init_cfg and before a ``Pretrained``
            checkpoint is loaded). ``None`` keeps the parent's init; small values start the
            stage close to its first unit (EMS-YOLO initialises its last branch BN to 0.2×).
        stream_in: the stage continues the stream of the stage before it (its first unit adds
            to the incoming membrane, :meth:`forward`'s ``stream``, and counts as a branch for
            ``branch_gamma``).
        stream_channels: the incoming stream's width (``None``: the first unit's). A narrower
            stream fills the first unit's first channels and the others start at 0 (the
            zero-padded identity of He et al.'s ResNet, option A: no parameter).
    """

    def __init__(self, *units: nn.Module, branch_gamma: Optional[float] = None,
                 stream_in: bool = False, stream_channels: Optional[int] = None) -> None:
        super().__init__(*units)
        prepare_units(type(self).__name__, units)
        self.branch_gamma = branch_gamma
        self.stream_in = stream_in
        self.stream_channels = stream_channels
        #: per unit: the index of the unit whose membrane it adds to (None: a new stream)
        self.links = same_width_links([unit_width(u) for u in units])

    def forward(self, x: Tensor, stream: Optional[Tensor] = None,
                return_membrane: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Spikes of the last unit (and its membrane with ``return_membrane``); ``stream``:
        the previous stage's last membrane (only with ``stream_in``)."""
        if stream is not None and not self.stream_in:
            raise ValueError(f'{type(self).__name__}: got a stream but was built with '
                             'stream_in=False')
        if stream is not None:
            stream = pad_stream(type(self).__name__, stream, unit_width(self[0]),
                                self.stream_channels)
        return membrane_forward(list(self), self.links, x, stream=stream,
                                return_membrane=return_membrane)

    @property
    def stream_pad(self) -> bool:
        """Whether an incoming stream is zero-padded (it is narrower than the first unit)."""
        return self.stream_channels is not None and self.stream_channels < unit_width(self[0])

    def init_weights(self) -> None:
        super().init_weights()
        init_branch_gamma(list(self), self.links, self.branch_gamma, self.stream_in)
