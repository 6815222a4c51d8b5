"""Map torchvision's ImageNet ANN weights onto the spiking backbones (an ANN warm start).

``convert(state, arch)`` takes a torchvision state dict (``vgg16_bn`` or ``resnet50``) and
returns the tensors of a stage-1 checkpoint (keys prefixed ``backbone.``, as an MMPretrain
``ImageClassifier`` writes them) plus a report of every source tensor it maps, every one it
leaves out and every backbone tensor that keeps its initialisation, each with the reason.

- ``vgg16_bn`` → ``HoyerVGG``/``HoyerSSDVGG`` depth 16 (stages 0-4, the parameter names both
  share): the 13 convs and their BN layers in order. torchvision's convs have a bias, ours do
  not; the conv is followed by (max pool and) BN, so the bias folds exactly into the BN's
  running mean (``μ' = μ − b``). Our units pool the pre-activation before BN (the authors'
  order): with γ ≥ 0 the max pool commutes with BN + ReLU, so the converted network with
  ``act_cfg=dict(type='ReLU')`` and ``shortcut='none'`` computes torchvision's features. The
  classifier (fc6-fc8) is left out: the detectors have no such layers (SSD's fc6/fc7 start
  from scratch).
- ``resnet50`` → ``HoyerResNet`` depth 50 (``style='pytorch'``). torchvision's ResNet is
  post-activation (conv → BN → ReLU), ours pre-activation (BN → spike → conv): every conv maps
  unchanged, and the BN *after* a conv becomes the BN *before* the next conv of the branch,
  which normalises the same tensor (``bn1`` → ``unit2.bn``, ``bn2`` → ``unit3.bn``; the stem's
  ``bn1`` → the first block's ``unit1.bn`` and ``shortcut.bn``, both reading the pooled stem).
  ``bn3`` and ``downsample.1`` (branch outputs before the addition) have no place in a
  pre-activation block and are left out; the BN layers that read the residual stream, the
  per-stage output BN (``out_mode='spike'``) and every neuron's θ and running threshold keep
  their initialisation.

Nothing here is exact for the spiking network (binary spikes are not ReLU outputs): it is a
starting point for spiking training, measured against a spiking stage 1 in docs/results/which_start.md.
"""
from typing import Dict, List, Tuple

from torch import Tensor

ARCHS = ('vgg16_bn', 'resnet50')
#: convs per VGG16 stage and the stage widths (HoyerVGG.arch_settings[16], stage_channels)
_VGG16_STAGES = (2, 2, 3, 3, 3)
_VGG16_WIDTHS = (64, 128, 256, 512, 512)
_RESNET50_BLOCKS = (3, 4, 6, 3)
_BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
PREFIX = 'backbone.'


class ConversionReport:
    """What :func:`convert` did: ``mapped`` (source, target, note), ``left_out`` (source,
    reason) and ``kept_init`` (target pattern, reason)."""

    def __init__(self, arch: str) -> None:
        self.arch = arch
        self.mapped: List[Tuple[str, str, str]] = []
        self.left_out: List[Tuple[str, str]] = []
        self.kept_init: List[Tuple[str, str]] = []

    def lines(self) -> List[str]:
        out = [f'mapped {len(self.mapped)} tensors of torchvision {self.arch}:']
        out += [f'  {src} -> {dst}' + (f'  ({note})' if note else '')
                for src, dst, note in self.mapped]
        out.append(f'left out {len(self.left_out)} tensors:')
        out += [f'  {src}  ({why})' for src, why in self.left_out]
        out.append('backbone tensors that keep their initialisation:')
        out += [f'  {dst}  ({why})' for dst, why in self.kept_init]
        return out


def _require(state: Dict[str, Tensor], arch: str, keys: List[str]) -> None:
    missing = [k for k in keys if k not in state]
    if missing:
        hint = (' (a vgg16 without BN? --arch vgg16_bn needs torchvision.models.vgg16_bn)'
                if arch == 'vgg16_bn' and 'features.1.weight' not in state
                and 'features.0.weight' in state else '')
        more = f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''
        raise ValueError(f'not a torchvision {arch} state dict: it has no '
                         f'{", ".join(missing[:3])}{more}{hint}')


def _check_shape(state: Dict[str, Tensor], arch: str, key: str, shape: Tuple[int, ...]) -> None:
    if tuple(state[key].shape) != tuple(shape):
        raise ValueError(f'not a torchvision {arch} state dict: {key} has shape '
                         f'{tuple(state[key].shape)}, {arch} has {tuple(shape)}')


def _map_bn(state, out, report, src: str, dst: str, note: str = '',
            mean_shift: Tensor = None) -> None:
    for k in _BN_KEYS:
        if f'{src}.{k}' not in state:
            continue
        value = state[f'{src}.{k}']
        if k == 'running_mean' and mean_shift is not None:
            value = value - mean_shift
        out[f'{PREFIX}{dst}.{k}'] = value.clone()
        report.mapped.append((f'{src}.{k}', f'{PREFIX}{dst}.{k}',
                              'minus the conv bias' if k == 'running_mean' and
                              mean_shift is not None else note))


def convert_vgg16_bn(state: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], ConversionReport]:
    """torchvision ``vgg16_bn`` → ``HoyerVGG``/``HoyerSSDVGG`` depth 16 (module docstring)."""
    arch = 'vgg16_bn'
    convs = sorted((int(k.split('.')[1]) for k, v in state.items()
                    if k.startswith('features.') and k.endswith('.weight') and v.dim() == 4))
    _require(state, arch, ['features.0.weight', 'features.1.running_mean'])
    if len(convs) != sum(_VGG16_STAGES):
        raise ValueError(f'not a torchvision {arch} state dict: it has {len(convs)} convs in '
                         f'features, {arch} has {sum(_VGG16_STAGES)}')
    report = ConversionReport(arch)
    out: Dict[str, Tensor] = {}
    k, prev = 0, 3
    for stage, (num, width) in enumerate(zip(_VGG16_STAGES, _VGG16_WIDTHS)):
        for unit in range(num):
            i = convs[k]
            src, dst = f'features.{i}', f'stages.{stage}.{unit}'
            _require(state, arch, [f'{src}.weight', f'{src}.bias', f'features.{i + 1}.weight',
                                   f'features.{i + 1}.running_mean'])
            _check_shape(state, arch, f'{src}.weight', (width, prev, 3, 3))
            out[f'{PREFIX}{dst}.conv.weight'] = state[f'{src}.weight'].clone()
            report.mapped.append((f'{src}.weight', f'{PREFIX}{dst}.conv.weight', ''))
            bias = state[f'{src}.bias']
            _map_bn(state, out, report, f'features.{i + 1}', f'{dst}.bn', mean_shift=bias)
            report.mapped.append((f'{src}.bias', f'{PREFIX}{dst}.bn.running_mean',
                                  'folded: the conv has no bias'))
            k, prev = k + 1, width
    used = {src for src, _, _ in report.mapped}
    report.left_out = [(key, 'classifier: the detectors have no fc layers'
                        if key.startswith('classifier.') else 'no counterpart')
                       for key in state if key not in used]
    report.kept_init = [('backbone.stages.*.*.act.{threshold,running_extremum}',
                         'the spiking neuron has no ANN counterpart: θ = 1, running E = 1')]
    return out, report


def convert_resnet50(state: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], ConversionReport]:
    """torchvision ``resnet50`` → ``HoyerResNet`` depth 50 (module docstring)."""
    arch = 'resnet50'
    _require(state, arch, ['conv1.weight', 'bn1.running_mean', 'fc.weight'] +
             [f'layer{i + 1}.{n - 1}.conv3.weight' for i, n in enumerate(_RESNET50_BLOCKS)])
    if f'layer3.{_RESNET50_BLOCKS[2]}.conv1.weight' in state or \
            'layer1.0.conv3.weight' not in state:
        raise ValueError(f'not a torchvision {arch} state dict: its blocks per stage differ '
                         f'from {_RESNET50_BLOCKS} bottlenecks')
    _check_shape(state, arch, 'conv1.weight', (64, 3, 7, 7))
    report = ConversionReport(arch)
    out: Dict[str, Tensor] = {}

    def conv(src: str, dst: str, note: str = '') -> None:
        out[f'{PREFIX}{dst}'] = state[src].clone()
        report.mapped.append((src, f'{PREFIX}{dst}', note))

    conv('conv1.weight', 'stem.conv.weight')
    _map_bn(state, out, report, 'bn1', 'stages.0.0.unit1.bn', 'the pooled stem output')
    _map_bn(state, out, report, 'bn1', 'stages.0.0.shortcut.bn', 'the pooled stem output')
    kept = []
    inplanes = 64
    for i, n in enumerate(_RESNET50_BLOCKS):
        planes = 64 * 2**i
        for j in range(n):
            src, dst = f'layer{i + 1}.{j}', f'stages.{i}.{j}'
            _check_shape(state, arch, f'{src}.conv1.weight', (planes, inplanes, 1, 1))
            for c in (1, 2, 3):
                conv(f'{src}.conv{c}.weight', f'{dst}.unit{c}.conv.weight')
            _map_bn(state, out, report, f'{src}.bn1', f'{dst}.unit2.bn')
            _map_bn(state, out, report, f'{src}.bn2', f'{dst}.unit3.bn')
            if j == 0:
                conv(f'{src}.downsample.0.weight', f'{dst}.shortcut.conv.weight',
                     'torchvision strides this 1x1 conv; HoyerResNet max-pools before it')
                if i > 0:
                    kept.append(f'{PREFIX}{dst}.shortcut.bn')
            if (i, j) != (0, 0):
                kept.append(f'{PREFIX}{dst}.unit1.bn')
            inplanes = planes * 4
    used = {s for s, _, _ in report.mapped}
    for key in state:
        if key in used:
            continue
        if key.startswith('fc.'):
            why = 'classifier: the detectors have no fc layer'
        elif '.bn3.' in key or '.downsample.1.' in key:
            why = ('BN of a branch output before the addition: a pre-activation block has no '
                   'such layer')
        else:
            why = 'no counterpart'
        report.left_out.append((key, why))
    report.kept_init = [(k, 'BN of the residual stream, which torchvision never normalises')
                        for k in kept]
    report.kept_init += [
        ('backbone.out_acts.*.bn', "the BN of each returned stage (out_mode='spike')"),
        ('backbone.**.act.{threshold,running_extremum}',
         'the spiking neuron has no ANN counterpart: θ = 1, running E = 1')]
    return out, report


def convert(state: Dict[str, Tensor], arch: str) -> Tuple[Dict[str, Tensor], ConversionReport]:
    """A torchvision ``arch`` state dict (also inside a ``'state_dict'`` key) → the tensors
    of a stage-1 checkpoint for the spiking backbone, and the report. ``ValueError`` naming
    the architecture for another file or ``arch``."""
    if arch not in ARCHS:
        raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
    if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
        state = state['state_dict']
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(f'not a torchvision {arch} state dict: expected a dict of tensors '
                         '(torch.save(model.state_dict(), path))')
    return (convert_vgg16_bn if arch == 'vgg16_bn' else convert_resnet50)(state)


def stage1_checkpoint(tensors: Dict[str, Tensor], report: ConversionReport) -> dict:
    """The file :func:`convert`'s output is saved as: MMEngine's checkpoint layout, so the
    detectors' ``init_cfg=dict(type='Pretrained', prefix='backbone.')`` loads it like a
    stage-1 checkpoint (plain tensors and strings: loads with ``weights_only=True``)."""
    return dict(state_dict=tensors,
                meta=dict(source=f'torchvision {report.arch}', converter='torchvision2hoyer'))
