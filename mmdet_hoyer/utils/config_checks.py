"""Checks a config's data paths before MMEngine builds datasets (clear errors, not tracebacks)."""
import os.path as osp
from typing import Iterator, Tuple

from mmengine.config import Config

from .torchvision_checkpoint import SCHEME, ensure_cached

_LAYOUT_HINTS = {
    'CocoDataset': ('COCO layout: <data_root>/<ann_file> (COCO json) and the images under '
                    '<data_root>/<data_prefix.img> (docs/guides/usage.md#datasets)'),
    'VOCDataset': ('VOC layout: <data_root>/VOC2007/{JPEGImages/*.jpg,Annotations/*.xml,'
                   'ImageSets/Main/{trainval,test}.txt} (and VOC2012/ likewise) with data_root '
                   'the VOCdevkit directory (docs/guides/usage.md#datasets)'),
    'ImageNet': ("MMPretrain's ImageNet layout: <data_root>/{train/<class>/*,val/*} and "
                 '<data_root>/meta/{train,val}.txt ("<file> <label>" per line); the demo writes '
                 'its box crops so with `make demo-data` (see docs/guides/scale.md)'),
}


def _layout_hint(ds: dict) -> str:
    """The layout a dataset config expects, with its own ``ann_file`` and image folder."""
    if ds.get('type') == 'PropheseeDetDataset':
        from ..datasets.prophesee_det_dataset import LAYOUT
        return ('Prophesee layout: ' + LAYOUT + '; the bundled simulated set: '
                '`make demo-events-data`')
    hint = _LAYOUT_HINTS.get(ds.get('type'), f'the layout {ds.get("type")} expects')
    prefix = (ds.get('data_prefix') or {}).get('img')
    if ds.get('ann_file'):
        hint = hint.replace('<ann_file>', str(ds['ann_file']))
    if prefix is not None:
        hint = hint.replace('<data_prefix.img>', str(prefix))
    return hint


def _datasets(cfg: dict, path: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(config path, dataset cfg)`` for a dataset and the ones it wraps."""
    if not isinstance(cfg, dict):
        return
    if 'dataset' in cfg:
        yield from _datasets(cfg['dataset'], f'{path}.dataset')
    if 'datasets' in cfg:
        for i, d in enumerate(cfg['datasets']):
            yield from _datasets(d, f'{path}.datasets[{i}]')
    if 'ann_file' in cfg or 'data_root' in cfg:
        yield path, cfg


def check_data_paths(cfg: Config, splits=('train', 'val', 'test')) -> None:
    """Raise ``FileNotFoundError`` naming the config field, the missing path and the expected
    layout when a dataloader's ``data_root`` or ``ann_file`` does not exist."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or split == 'train' and cfg.get('train_cfg') is None:
            continue
        for where, ds in _datasets(loader.get('dataset'), f'{split}_dataloader.dataset'):
            root = ds.get('data_root') or ''
            hint = _layout_hint(ds)
            if root and not osp.isdir(root):
                raise FileNotFoundError(
                    f'{where}.data_root: directory {root!r} does not exist (cwd {osp.abspath(".")}). '
                    f'Expected {hint}. Set it with --cfg-options {where}.data_root=<path>.')
            events = (ds.get('data_prefix') or {}).get('events')
            if events is not None and not osp.isdir(osp.join(root, events)):
                raise FileNotFoundError(
                    f'{where}.data_prefix.events: folder {osp.join(root, events)!r} does not '
                    f'exist. Expected {hint}.')
            ann = ds.get('ann_file')
            if ann:
                full = ann if osp.isabs(ann) else osp.join(root, ann)
                if not osp.exists(full):
                    raise FileNotFoundError(
                        f'{where}.ann_file: {full!r} does not exist. Expected {hint}.')
    for split in splits:
        evaluator = cfg.get(f'{split}_evaluator') if split != 'train' else None
        for ev in evaluator if isinstance(evaluator, list) else [evaluator]:
            ann = ev.get('ann_file') if isinstance(ev, dict) else None
            if ann and not osp.exists(ann):
                raise FileNotFoundError(
                    f'{split}_evaluator.ann_file: {ann!r} does not exist (the metric reads the '
                    'ground truth from it).')


def _pretrained_inits(cfg, path: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(config path, init cfg)`` for every ``type='Pretrained'`` init in ``cfg``."""
    if isinstance(cfg, dict):
        if cfg.get('type') == 'Pretrained' and 'checkpoint' in cfg:
            yield path, cfg
        for k, v in cfg.items():
            yield from _pretrained_inits(v, f'{path}.{k}')
    elif isinstance(cfg, (list, tuple)):
        for i, v in enumerate(cfg):
            yield from _pretrained_inits(v, f'{path}[{i}]')


def check_pretrained_paths(cfg: Config) -> None:
    """Raise ``FileNotFoundError`` naming the field when a local ``Pretrained`` checkpoint (or
    ``load_from``, or a ``TeacherDistillHook``'s teacher) that training would load does not
    exist. For the backbone's stage-1 checkpoint the message names the command that writes it
    (the config's ``pretrained_by``) and how to start from random weights instead.
    ``torchvision2hoyer://`` weights are fetched into torch's hub cache now (or the error names
    the file and the folder); other URLs and ``scheme://`` paths are left to MMEngine."""
    found = list(_pretrained_inits(cfg.get('model'), 'model'))
    if cfg.get('load_from'):
        found.append(('load_from', dict(checkpoint=cfg.get('load_from'))))
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict) and hook.get('type') == 'TeacherDistillHook':
            for key in ('teacher_config', 'teacher_checkpoint'):
                path = hook.get(key)
                if isinstance(path, str) and '://' not in path and not osp.isfile(path):
                    raise FileNotFoundError(
                        f'custom_hooks.{i}.{key}: {path!r} does not exist (cwd '
                        f'{osp.abspath(".")}). Train the teacher first (the demo\'s ANN twin: '
                        '`make demo-ann`) or remove TeacherDistillHook from custom_hooks.')
    for where, init in found:
        ckpt = init['checkpoint']
        if isinstance(ckpt, str) and ckpt.startswith(SCHEME):
            try:  # torchvision's weights: in torch's hub cache, or fetched now
                ensure_cached(ckpt)
            except (FileNotFoundError, ValueError) as e:
                field = where if where == 'load_from' else f'{where}.checkpoint'
                raise FileNotFoundError(f'{field}: {e}') from None
            continue
        if not isinstance(ckpt, str) or '://' in ckpt:
            continue
        if not osp.isfile(ckpt):
            field = where if where == 'load_from' else f'{where}.checkpoint'
            if where == 'model.backbone.init_cfg':
                how = (f'It is the stage-1 backbone this config starts from: produce it with '
                       f'`{cfg.pretrained_by}`' if cfg.get('pretrained_by') else
                       'It is the pretrained backbone this config starts from: produce it first')
                raise FileNotFoundError(
                    f'{field}: checkpoint {ckpt!r} does not exist (cwd {osp.abspath(".")}). '
                    f'{how} (docs/guides/scale.md), or start from random weights on purpose with '
                    '--cfg-options model.backbone.init_cfg=None.')
            how = (f'It is the checkpoint this config starts from: produce it with '
                   f'`{cfg.pretrained_by}` (docs/guides/scale.md)' if cfg.get('pretrained_by')
                   else 'Produce it first (the demo pretrains its backbone with `make demo`, '
                   'see README)')
            raise FileNotFoundError(
                f'{field}: checkpoint {ckpt!r} does not exist (cwd {osp.abspath(".")}). '
                f'{how} or train without it with --cfg-options {where}=None.')
