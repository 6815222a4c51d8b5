"""Linear class probe on a detector's feature maps at the ground-truth box centres.

    python projects/gap_study/tools/centre_probe.py CONFIG CHECKPOINT [--num-train 400]
        [--num-val 200] [--layers backbone neck bbox_head.convs_bridge.0 ...] [--window 1]
        [--alpha 10] [--out FILE.md]

For each recorded map (default: backbone and neck outputs, and the head's bridge convs when
the head has them) it collects the feature vector of the cell holding each box centre on the
first N training and validation images (the config's test pipeline, boxes loaded before the
resize so they are in input pixels), fits a logistic regression on the training vectors and
prints its validation accuracy (chance: 1/num_classes). It shows where a detector keeps — or
loses — the information its class predictions need (mmdet_hoyer/analysis/centre_probe.py).
Beside it, the box probe's validation R² of the centre offset inside the cell and of the log
box size (ridge regressions on the same vectors; the localisation counterpart). ``--window 3``
probes the 3x3 cells around each centre (what a 3x3 conv there reads) instead of the centre
cell; raise ``--alpha`` (the ridge strength) with it.
"""
import argparse
import copy
import json
import os.path as osp
import sys
from collections import defaultdict

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.utils import load_trained_model

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '../../..')))  # the repo: projects.*
from projects.gap_study.centre_probe import (FeatureMapRecorder, centre_box_targets,  # noqa: E402
                                             centre_features, default_probe_layers,
                                             linear_probe_accuracy, linear_probe_r2,
                                             probe_layers)


def parse_args():
    p = argparse.ArgumentParser(description='linear class probe at box centres')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num-train', type=int, default=400, help='training images to fit on')
    p.add_argument('--num-val', type=int, default=200, help='validation images to score on')
    p.add_argument('--layers', nargs='+', help='module names whose output maps to probe '
                   '(default: backbone, neck and the head bridge convs)')
    p.add_argument('--window', type=int, default=1,
                   help='probe the k x k cells around each centre (odd k; default 1: the '
                   'centre cell), e.g. 3: what a 3x3 conv at the centre reads')
    p.add_argument('--alpha', type=float, default=10.0,
                   help='ridge strength of the box probe on standardised features (default 10; '
                   'raise it with --window, whose vectors are k^2 times longer)')
    p.add_argument('--out', help='also write the table (markdown) and a .json beside it')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    return p.parse_args()


def probe_loader(cfg, split: str):
    """``split``'s dataloader with the test pipeline, boxes loaded before the resize."""
    test_ds = cfg.test_dataloader.dataset
    pipeline = [t for t in copy.deepcopy(test_ds.pipeline) if t['type'] != 'LoadAnnotations']
    pipeline.insert(1, dict(type='LoadAnnotations', with_bbox=True))
    loader = copy.deepcopy(cfg.test_dataloader)
    if split == 'train':
        ds = copy.deepcopy(cfg.train_dataloader.dataset)
        if 'pipeline' not in ds:
            raise SystemExit('error: train_dataloader.dataset has no pipeline (a dataset '
                             'wrapper?); the probe needs a plain detection dataset')
        ds.test_mode = False
        loader.dataset = ds
    loader.dataset.pipeline = pipeline
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.persistent_workers = False
    return Runner.build_dataloader(loader)


@torch.no_grad()
def collect(model, loader, recorder, num_images, window=1):
    feats, boxes_t, labels, seen = defaultdict(list), defaultdict(list), [], 0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        recorder.maps.clear()
        model(data['inputs'], data['data_samples'], mode='tensor')
        input_hw = tuple(data['inputs'].shape[-2:])
        for i, sample in enumerate(data['data_samples']):
            boxes = sample.gt_instances.bboxes
            boxes = getattr(boxes, 'tensor', boxes)
            if len(boxes) == 0:
                continue
            for name, m in recorder.maps.items():
                feats[name].append(
                    centre_features(m[i].float(), boxes, input_hw, window).cpu())
                boxes_t[name].append(
                    centre_box_targets(boxes.float().cpu(), m.shape[-2:], input_hw))
            labels.append(sample.gt_instances.labels.cpu())
            seen += 1
            if seen >= num_images:
                break
        if seen >= num_images:
            break
    return ({k: torch.cat(v).numpy() for k, v in feats.items()},
            torch.cat(labels).numpy() if labels else np.zeros(0, dtype=np.int64),
            {k: torch.cat(v).numpy() for k, v in boxes_t.items()})


def main():
    args = parse_args()
    if args.num_train < 1 or args.num_val < 1:
        raise SystemExit('error: --num-train and --num-val must be >= 1')
    if args.window < 1 or args.window % 2 != 1:
        raise SystemExit(f'error: --window must be an odd integer >= 1, got {args.window}')
    if args.alpha <= 0:
        raise SystemExit(f'error: --alpha must be > 0, got {args.alpha}')
    cfg, model = load_trained_model(args.config, args.checkpoint, args.cfg_options,
                                    splits=('train', 'test'))
    model.eval()
    try:
        layers = probe_layers(model, args.layers or default_probe_layers(model))
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    with FeatureMapRecorder(layers) as rec:
        train_x, train_y, train_t = collect(model, probe_loader(cfg, 'train'), rec,
                                            args.num_train, args.window)
        val_loader = probe_loader(cfg, 'test')
        val_x, val_y, val_t = collect(model, val_loader, rec, args.num_val, args.window)
    # chance level from the dataset's classes (any detector, with or without a bbox_head)
    num_classes = len(val_loader.dataset.metainfo['classes'])
    rows = []
    for name in train_x:
        acc = linear_probe_accuracy(train_x[name], train_y, val_x[name], val_y)
        values = np.concatenate([train_x[name].ravel(), val_x[name].ravel()])
        offset_r2 = linear_probe_r2(train_x[name], train_t[name][:, :2], val_x[name],
                                    val_t[name][:, :2], args.alpha)
        size_r2 = linear_probe_r2(train_x[name], train_t[name][:, 2:], val_x[name],
                                  val_t[name][:, 2:], args.alpha)
        channels = int(train_x[name].shape[1]) // args.window ** 2
        rows.append(dict(map=name, channels=channels, accuracy=acc,
                         offset_r2=offset_r2, size_r2=size_r2,
                         mean_activation=float(val_x[name].mean()),
                         binary=bool(np.isin(values, (0., 1.)).all())))
    lines = [f'Linear class probe at box centres: {len(train_y)} train / {len(val_y)} val boxes, '
             f'chance {1 / num_classes:.3f}, {args.window}x{args.window} cells at each centre, '
             f'ridge alpha {args.alpha:g} ({args.checkpoint})', '',
             '| map | channels | values | val accuracy | box offset R² | box size R² '
             '| mean value at centres |',
             '|---|---|---|---|---|---|---|']
    lines += [f"| {r['map']} | {r['channels']} | {'spikes' if r['binary'] else 'analog'} | "
              f"{r['accuracy']:.3f} | {r['offset_r2']:.3f} | {r['size_r2']:.3f} | "
              f"{r['mean_activation']:.3f} |" for r in rows]
    print('\n'.join(lines))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
            json.dump(dict(checkpoint=args.checkpoint, config=args.config,
                           num_train_boxes=len(train_y), num_val_boxes=len(val_y),
                           chance=1 / num_classes, window=args.window,
                           alpha=args.alpha, maps=rows), f, indent=1)


if __name__ == '__main__':
    main()
