"""Train a (spiking) detector. Same arguments as MMDetection's tools/train.py.

    python tools/train.py configs/yolov3_hoyer_vgg.py [--work-dir D] [--resume [CKPT]] [--amp]
"""
import argparse

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.utils import (check_data_paths, check_pretrained_paths, load_config,
                               parse_with_common_args)


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
    try:
        check_data_paths(cfg)
        check_pretrained_paths(cfg)
    except FileNotFoundError as e:  # a clear message, not a traceback
        raise SystemExit(f'error: {e}')
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
