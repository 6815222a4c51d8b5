"""Shared command-line handling of the tools: MMDetection's arguments, loading a trained model."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.config import Config, DictAction
from torch import nn


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank`` as MMDetection has them."""
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. train_cfg.max_epochs=2)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_parser(description: str, suffix: str) -> argparse.ArgumentParser:
    """The arguments every export tool takes: config, checkpoint, ``--out`` (a ``suffix``
    file), the check's images and report, ``--eval`` and ``--cfg-options``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help=f'the {suffix} file to write')
    p.add_argument('--images', nargs='+', help='images for tracing and the check (default: '
                   'the first --num-images of the config\'s test set)')
    p.add_argument('--num-images', type=int, default=2)
    p.add_argument('--report', help='write the check as JSON here')
    p.add_argument('--eval', action='store_true',
                   help="also evaluate the graph on the config's test set with its "
                   'test_evaluator (e.g. CocoMetric), as tools/test.py evaluates PyTorch')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, key=value')
    return p


def load_export_args(args: argparse.Namespace, suffix: str):
    """:func:`~mmdet_hoyer.deployment.load_for_export` on an :func:`export_parser`'s arguments;
    a bad argument exits with its one-line error."""
    from mmdet_hoyer.deployment import load_for_export
    try:
        return load_for_export(args.config, args.checkpoint, args.out, suffix, args.images,
                               args.num_images, args.cfg_options)
    except ValueError as e:
        raise SystemExit(f'error: {e}')


def add_snn_ann_args(parser: argparse.ArgumentParser) -> None:
    """``config``, ``checkpoint`` and ``--cfg-options`` of the spiking detector and ``--ann
    CONFIG CHECKPOINT`` of its ANN twin (optional), for the tools that compare the two."""
    parser.add_argument('config', help='spiking detector config')
    parser.add_argument('checkpoint', help='spiking detector checkpoint')
    parser.add_argument('--ann', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help='the ANN twin (its columns are left out when not given)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of the SNN config')


def check_snn_ann_files(args: argparse.Namespace) -> None:
    """Exit with a message naming the argument when a file of :func:`add_snn_ann_args` is
    missing."""
    pairs = [('config', args.config), ('checkpoint', args.checkpoint)]
    if args.ann:
        pairs += [('--ann CONFIG', args.ann[0]), ('--ann CHECKPOINT', args.ann[1])]
    for what, path in pairs:
        if not osp.isfile(path):
            raise SystemExit(f'error: {what}: {path!r} is not a file')


def load_snn_ann(args: argparse.Namespace):
    """The detectors of :func:`add_snn_ann_args` on the CPU through MMDetection's
    ``init_detector`` (the SNN's config with ``args.cfg_options``) and the SNN config's test
    dataset: ``(snn, ann or None, dataset)``; exits with a message when the test data is
    missing."""
    from mmdet.apis import init_detector
    from mmdet.registry import DATASETS
    from .config_checks import check_data_paths

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    snn = init_detector(cfg, args.checkpoint, device='cpu')
    ann = init_detector(args.ann[0], args.ann[1], device='cpu') if args.ann else None
    try:
        check_data_paths(snn.cfg, splits=('test', ))
    except FileNotFoundError as e:
        raise SystemExit(f'error: {e}')
    return snn, ann, DATASETS.build(snn.cfg.test_dataloader.dataset)


def parse_with_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    add_common_args(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config``, apply ``--cfg-options`` and ``--launcher``, resolve the work dir
    (``--work-dir``, else the config's, else ``./work_dirs/<config name>``)."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def load_trained_model(config: str, checkpoint: str, cfg_options: Optional[dict] = None,
                       splits: Sequence[str] = ('test', )) -> Tuple[Config, nn.Module]:
    """Config (with ``--cfg-options``) and model with ``checkpoint`` loaded, for the analysis
    tools; ``SystemExit`` with the reason for a missing checkpoint or dataset path (``splits``)."""
    from .config_checks import check_data_paths
    if not osp.isfile(checkpoint):
        raise SystemExit(f'error: checkpoint {checkpoint!r} is not a file')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    try:
        check_data_paths(cfg, splits=tuple(splits))
    except FileNotFoundError as e:
        raise SystemExit(f'error: {e}')
    return cfg, build_trained_model(cfg, checkpoint)


def build_trained_model(cfg: Config, checkpoint: str, strict: bool = False) -> nn.Module:
    """``cfg.model`` built without its ``init_cfg`` (no pretrained download or load) and
    ``checkpoint``'s weights loaded on the CPU."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmdet.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=strict, logger='silent')
    return model


def shut_down_distributed() -> None:
    """Destroy the process group once a tool is done (PyTorch's documented shutdown). MMEngine
    never does; left to interpreter teardown, gloo's worker threads can abort a finished run
    ('terminate called without an active exception', SIGABRT) and fail the job."""
    import torch.distributed as dist
    from mmengine.dist import barrier, is_distributed
    if is_distributed():
        barrier()
        dist.destroy_process_group()
