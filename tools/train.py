"""Train a (spiking) detector. Same arguments as MMDetection's tools/train.py.

    python tools/train.py configs/yolov3_hoyer_vgg.py [--work-dir D] [--resume [CKPT]] [--amp]
"""
import argparse

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.utils import (check_data_paths, check_pretrained_paths, load_config,
                               parse_with_common_args, shut_down_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='enable automatically scaling LR')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work dir')
    return parse_with_common_args(parser)


def main():
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('error: --amp uses MMEngine\'s AmpOptimWrapper, which needs a CUDA '
                             'device; none is available (the spiking models themselves run under '
                             'CPU bfloat16 autocast, see docs/guides/reliability.md)')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    try:  # before building anything: the stage-1 checkpoint first, then the data
        check_pretrained_paths(cfg)
        check_data_paths(cfg)
    except FileNotFoundError as e:  # a clear message, not a traceback
        raise SystemExit(f'error: {e}')
    if args.launcher == 'pytorch':
        cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    shut_down_distributed()


def cpu_distributed(cfg) -> None:
    """Multi-process training without GPUs (torchrun on CPU, gloo). MMEngine's pytorch launcher
    calls ``torch.cuda.set_device`` and wraps the model with ``device_ids=[local_rank]``, both
    GPU-only: start the gloo process group here (MMEngine then skips its own init) and wrap
    with ``device_ids=None``."""
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)


if __name__ == '__main__':
    main()
