"""Turn any MMDetection config into its one-time-step spiking version (a short config delta).

``spikify_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', backbone='HoyerResNet')``
returns the delta (a dict whose ``_base_`` is the source config) and a report of every
change and of every part that could not be made spiking. ``tools/misc/spikify_config.py`` is
the command-line front end.
"""
import copy
import inspect
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

BACKBONES = ('HoyerResNet', 'HoyerVGG', 'HoyerSSDVGG')
_DEPTHS = {'HoyerResNet': (18, 34, 50, 101), 'HoyerVGG': (11, 13, 16, 19),
           'HoyerSSDVGG': (11, 13, 16, 19)}
_DEFAULT_DEPTH = {'HoyerResNet': 50, 'HoyerVGG': 16, 'HoyerSSDVGG': 16}
#: λ of the authors' code: 2e-9 for ResNet-50, 1e-8 for VGG16.
_DEFAULT_LAMBDA = {'HoyerResNet': 2e-9, 'HoyerVGG': 1e-8, 'HoyerSSDVGG': 1e-8}
#: output stride of each stage index (a stride met twice maps to the later, deeper stage:
#: HoyerSSDVGG's conv4_3 and fc7, as SSD reads them)
_STRIDES = {'HoyerResNet': (4, 8, 16, 32), 'HoyerVGG': (2, 4, 8, 16, 32),
            'HoyerSSDVGG': (2, 4, 8, 8, 16, 16)}
#: parts replaced by the plugin's class of the same topology: type -> (new type, why)
_SWAPS = {
    'SSDHead': ('PatchedSSDHead', 'mmdet 3.3.0 predict bug, MMDetection issues #11305/#11780'),
    'YOLOV3Neck': ('HoyerYOLOV3Neck', 'same topology with membrane shortcuts in each detection '
                   'block, without which the spiking neck does not learn classes: '
                   'docs/research/accuracy.md'),
}
#: heads whose last hidden convs hand the prediction convs their membrane potential instead of
#: spikes (conv + BN, no neuron): type -> why
_READOUT = {
    'YOLOV3Head': 'membrane read-out: the 3x3 bridge convs read spikes, the 1x1 prediction '
                  'convs read their BN output (analog, MACs); with spiking bridges the demo '
                  'YOLOv3 reached mAP@0.5 0.47 instead of 0.85: docs/research/accuracy.md',
}


def load_source(path: str) -> Config:
    """Read a config from a file or a package path such as ``mmdet::yolo/...py``."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} does not exist')
    return Config.fromfile(path)


def _backbone_outputs(backbone_cfg: dict, size: int = 128) -> List[Tuple[int, int]]:
    """(stride, channels) of each output of a backbone config, by building it and running a
    ``size``² dummy image (no weights are loaded)."""
    from mmdet.registry import MODELS
    cfg = copy.deepcopy(backbone_cfg)
    cfg.pop('init_cfg', None)
    cfg.pop('pretrained', None)
    model = MODELS.build(cfg)
    model.eval()  # (some backbones' train() return None)
    with torch.no_grad():
        outs = model(torch.zeros(1, cfg.get('in_channels', 3), size, size))
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [(round(size / o.shape[-1]), o.shape[1]) for o in outs]


def _accepts(type_name: str, arg: str) -> bool:
    from mmdet.registry import MODELS
    cls = MODELS.get(type_name)
    if cls is None:
        return False
    try:
        return arg in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


def _spike_part(part: dict, where: str, spike: dict, report: List[str]) -> dict:
    """Delta for a neck/head config: HoyerSpike as act_cfg when the class takes one."""
    delta = {}
    t = part.get('type')
    if t in _SWAPS:
        delta['type'], why = _SWAPS[t]
        report.append(f'{where}: {t} -> {delta["type"]} ({why})')
        t = delta['type']
    if t in _READOUT:
        delta['act_cfg'] = None
        report.append(f'{where} ({t}): act_cfg -> None ({_READOUT[t]})')
    elif _accepts(t, 'act_cfg'):
        delta['act_cfg'] = dict(spike)
        report.append(f'{where} ({t}): act_cfg -> HoyerSpike (its ConvModules spike)')
    else:
        report.append(f'NOT SPIKING {where} ({t}): the class has no act_cfg argument, its '
                      'layers keep their built-in activation (analog)')
    return delta


def spikify_config(source: str,
                   backbone: Optional[str] = None,
                   depth: Optional[int] = None,
                   widen_factor: float = 1.0,
                   loss_weight: Optional[float] = None,
                   spike: Optional[dict] = None) -> Tuple[Dict, List[str]]:
    """Spiking delta of ``source``: backbone swapped for ``HoyerResNet``/``HoyerVGG`` with the
    same output strides (the neck's ``in_channels`` adjusted), ``HoyerSpike`` in every
    neck/head that exposes ``act_cfg``, the regularizer and firing-rate hooks added, no
    weight decay on thresholds, pretrained backbone weights removed (trained from scratch).

    Returns ``(delta, report)``; ``delta['_base_']`` is ``source``. Raises ``ValueError``
    naming the argument for an unknown backbone/depth or strides the spiking backbone lacks.
    """
    cfg = load_source(source)
    model = cfg.get('model')
    if not model or 'backbone' not in model:
        raise ValueError(f'{source}: model.backbone not found; not a detector config')
    orig = model.backbone
    if backbone is None:
        backbone = 'HoyerSSDVGG' if orig.type == 'SSDVGG' else \
            'HoyerVGG' if 'VGG' in orig.type.upper() else 'HoyerResNet'
    if backbone not in BACKBONES:
        raise ValueError(f'backbone must be one of {BACKBONES}, got {backbone!r}')
    report: List[str] = []
    if depth is None:
        depth = orig.get('depth') if orig.get('depth') in _DEPTHS[backbone] \
            else _DEFAULT_DEPTH[backbone]
    if depth not in _DEPTHS[backbone]:
        raise ValueError(f'depth of {backbone} must be one of {_DEPTHS[backbone]}, got {depth!r}')
    if not widen_factor > 0:
        raise ValueError(f'widen_factor must be > 0, got {widen_factor!r}')
    spike = dict(spike or dict(type='HoyerSpike', mode='layer', momentum=0.1))

    outs = _backbone_outputs(orig)
    strides = _STRIDES[backbone]
    missing = [s for s, _ in outs if s not in strides]
    if missing:
        raise ValueError(f'{orig.type} emits strides {[s for s, _ in outs]}; {backbone} has only '
                         f'{strides}: strides {missing} cannot be matched')
    out_indices = tuple(len(strides) - 1 - strides[::-1].index(s) for s, _ in outs)
    new_bb = dict(_delete_=True, type=backbone, depth=depth, widen_factor=widen_factor,
                  out_indices=out_indices, act_cfg=dict(spike))
    if backbone == 'HoyerResNet' and orig.get('style') in ('pytorch', 'caffe'):
        new_bb['style'] = orig.style
    if orig.get('norm_cfg', {}).get('type') in ('BN', 'SyncBN'):
        new_bb['norm_cfg'] = dict(type=orig.norm_cfg.type, requires_grad=True)
    reset = [f'{k}={orig[k]!r}' for k in ('frozen_stages', 'norm_eval')
             if k in orig and orig[k] not in (-1, False)]
    if orig.get('norm_cfg', {}).get('requires_grad') is False:
        reset.append('norm_cfg.requires_grad=False')
    if reset:
        report.append(f'backbone: {", ".join(reset)} of the source not kept (they freeze '
                      'pretrained weights; the spiking backbone trains from scratch)')
    from mmdet.registry import MODELS
    probe = {k: v for k, v in new_bb.items() if k != '_delete_'}
    channels = list(MODELS.build(probe).out_channels)
    report.append(f'backbone: {orig.type}-{orig.get("depth", "")} -> {backbone}-{depth} '
                  f'(widen {widen_factor}), out_indices {out_indices} at strides '
                  f'{[s for s, _ in outs]}, channels {[c for _, c in outs]} -> {channels}')
    if orig.get('init_cfg') or orig.get('pretrained'):
        report.append('backbone: pretrained weights of the source dropped (trained from scratch; '
                      "set model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...) to a "
                      'spiking checkpoint)')
    delta_model: Dict = dict(backbone=new_bb)

    if 'neck' in model:
        necks = model.neck if isinstance(model.neck, list) else [model.neck]
        if isinstance(model.neck, list):
            report.append('NOTE neck is a list: only the first neck is adapted to the new '
                          'channels')
        neck = necks[0]
        nd = _spike_part(neck, 'neck', spike, report)
        if 'in_channels' in neck:
            ins = list(reversed(channels)) if neck.type == 'YOLOV3Neck' else list(channels)
            nd['in_channels'] = ins
            report.append(f'neck: in_channels {list(neck.in_channels)} -> {ins}')
        if neck.type == 'SSDNeck':  # its first outputs are its inputs (conv4_3, fc7)
            nd['type'] = 'HoyerSSDNeck'
            nd['norm_cfg'] = dict(type='BN', requires_grad=True)
            report.append('neck: SSDNeck -> HoyerSSDNeck (same topology, BN before every neuron)')
            outs_c = list(neck.out_channels)
            outs_c[:len(channels)] = channels
            nd['out_channels'] = outs_c
            report.append(f'neck: out_channels {list(neck.out_channels)} -> {outs_c}')
            if neck.get('l2_norm_scale', 20.):
                # L2Norm of a spike map: all-zero positions give sqrt(0) in the forward and a
                # NaN gradient; binary maps are already bounded, which L2Norm exists to ensure
                nd['l2_norm_scale'] = None
                report.append('neck: L2Norm on the conv4_3 map removed (l2_norm_scale=None): '
                              'the map is binary spikes (bounded); L2Norm of a spike map has '
                              'all-zero positions whose gradient is NaN')
        delta_model['neck'] = nd if not isinstance(model.neck, list) else \
            [dict(nd, **{k: v for k, v in necks[0].items() if k not in nd})] + list(necks[1:])
        if neck.type == 'SSDNeck' and 'bbox_head' in model:
            delta_model.setdefault('bbox_head', {})['in_channels'] = outs_c
    for name in ('rpn_head', 'bbox_head'):
        if name in model:
            d = _spike_part(model[name], name, spike, report)
            if d:
                delta_model.setdefault(name, {}).update(d)
    if 'roi_head' in model:
        rh = model.roi_head
        for sub in ('bbox_head', 'mask_head'):
            if sub in rh and isinstance(rh[sub], dict):
                d = _spike_part(rh[sub], f'roi_head.{sub}', spike, report)
                if d:
                    delta_model.setdefault('roi_head', {})[sub] = d

    lam = _DEFAULT_LAMBDA[backbone] if loss_weight is None else loss_weight
    hooks = list(copy.deepcopy(cfg.get('custom_hooks', None) or []))
    hooks += [dict(type='HoyerRegularizerHook', loss_weight=lam),
              dict(type='SpikeRecomputeHook'), dict(type='FiringRateHook')]
    report.append(f'custom_hooks: + HoyerRegularizerHook (λ={lam}), SpikeRecomputeHook, '
                  'FiringRateHook')
    imports = list((cfg.get('custom_imports') or {}).get('imports', []))
    delta = {
        '_base_': source,
        'custom_imports': dict(imports=sorted(set(imports) | {'mmdet_hoyer'}),
                               allow_failed_imports=False),
        'model': delta_model,
        'optim_wrapper': dict(paramwise_cfg=dict(
            custom_keys={'.threshold': dict(decay_mult=0.0)})),
        'custom_hooks': hooks,
    }
    if cfg.get('load_from'):
        report.append(f'NOTE load_from={cfg.load_from!r} is kept: a non-spiking checkpoint will '
                      'not match the spiking backbone')
    return delta, report


def write_delta(delta: Dict, report: Sequence[str], out: str) -> str:
    """Write ``delta`` as a config file (with the report as a header comment); return text."""
    body = {k: v for k, v in delta.items() if k != '_base_'}
    text = Config(body).pretty_text
    header = ['# Spiking version of ' + delta['_base_'] + ', written by',
              '# tools/misc/spikify_config.py. Changes:']
    header += ['#   ' + line for line in report]
    text = '\n'.join(header) + f"\n_base_ = {delta['_base_']!r}\n" + text
    with open(out, 'w') as f:
        f.write(text)
    return text
