"""Evaluate a (spiking) detector checkpoint. Same arguments as MMDetection's tools/test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir D] [--out results.pkl] [--show-dir D]

The metrics (mAP and, for spiking models with FiringRateHook, spike rates) are printed and
written to ``<work_dir>/test_metrics.json``.
"""
import argparse
import json
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.utils import (check_data_paths, load_config, parse_with_common_args,
                               shut_down_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the predictions to a pickle file')
    parser.add_argument('--show-dir', help='save images with drawn predictions (under work dir)')
    return parse_with_common_args(parser)


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint: {args.checkpoint!r} is not a file')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        vis = cfg.default_hooks.visualization
        vis.draw, vis.test_out_dir = True, args.show_dir
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out: the output file must be a .pkl file, got {args.out!r}')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) \
            else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='DumpDetResults', out_file_path=args.out))
    try:
        check_data_paths(cfg, splits=('test', ))
    except FileNotFoundError as e:  # a clear message, not a traceback
        raise SystemExit(f'error: {e}')
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    metrics = runner.test()
    if is_main_process():
        path = osp.join(cfg.work_dir, 'test_metrics.json')
        with open(path, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()
                       if isinstance(v, (int, float))}, f, indent=1)
        print(f'metrics written to {path}')
    shut_down_distributed()


if __name__ == '__main__':
    main()
