"""Evaluate a trained detector with int8 weights (and, for the ANN twin, int8 activations)
with the config's own metric: post-training quantization (Int8QuantizeHook).

    python tools/analysis_tools/int8_eval.py CONFIG CHECKPOINT --work-dir DIR [--activations]

Writes DIR/int8_metrics.json (the metrics and the quantization settings).
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin and the hook)
from mmdet_hoyer.utils import check_data_paths


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='int8 post-training quantization, evaluated')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--work-dir', required=True, help='where int8_metrics.json and logs go')
    p.add_argument('--activations', action='store_true',
                   help='quantize every conv/linear input too (the ANN twin), calibrated on '
                   'training images')
    p.add_argument('--calib-images', type=int, default=64)
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, key=value')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'error: checkpoint {args.checkpoint!r} is not a file')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        check_data_paths(cfg, ('test', 'train') if args.activations else ('test', ))
    except FileNotFoundError as e:
        raise SystemExit(f'error: {e}')
    if args.calib_images < 1:
        raise SystemExit(f'error: --calib-images must be >= 1, got {args.calib_images}')
    cfg.work_dir, cfg.load_from = args.work_dir, args.checkpoint
    hook = dict(type='Int8QuantizeHook', activations=args.activations,
                calib_images=args.calib_images)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [hook]
    metrics = Runner.from_cfg(cfg).test()
    result = dict(config=args.config, checkpoint=args.checkpoint, quantization=hook,
                  metrics={k: float(v) for k, v in metrics.items()})
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'int8_metrics.json'), 'w') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result['metrics']))
    return result


if __name__ == '__main__':
    main()
