"""Build the bundled event-camera demo: simulated Gen1 recordings (no download).

    python tools/dataset_converters/make_event_demo.py --out-dir data/events_demo

Renders recordings of moving digits and shapes over a panning textured background, turns them
into events with the simulator of mmdet_hoyer.datasets.events.simulator (log-intensity contrast
threshold with per-pixel mismatch, events interpolated between frames, refractory period,
noise events) and writes them as Prophesee Gen1 files: <out-dir>/{train,val}/<name>_td.dat and
<name>_bbox.npy, read by PropheseeDetDataset exactly as Gen1 is. Deterministic by --seed.
"""
import argparse
import json
import time


from mmdet_hoyer.datasets.events.moving_shapes import DemoConfig, make_event_demo
from mmdet_hoyer.datasets.events.simulator import SensorConfig


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--out-dir', default='data/events_demo', help='output directory')
    p.add_argument('--num-train', type=int, default=20, help='training recordings')
    p.add_argument('--num-val', type=int, default=6, help='validation recordings')
    p.add_argument('--duration-ms', type=int, default=3000, help='length of a recording')
    p.add_argument('--label-interval-ms', type=int, default=50, help='time between labels')
    p.add_argument('--contrast-threshold', type=float, default=0.2,
                   help='the sensor\'s contrast threshold C (log intensity)')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    return p.parse_args()


def main():
    args = parse_args()
    start = time.time()
    cfg = DemoConfig(duration_us=args.duration_ms * 1000,
                     label_interval_us=args.label_interval_ms * 1000)
    names = make_event_demo(args.out_dir, {'train': args.num_train, 'val': args.num_val}, cfg,
                            SensorConfig(contrast_threshold=args.contrast_threshold),
                            seed=args.seed)
    summary = {split: len(v) for split, v in names.items()}
    print(json.dumps(dict(out_dir=args.out_dir, recordings=summary,
                          seconds=round(time.time() - start, 1))))


if __name__ == '__main__':
    main()
