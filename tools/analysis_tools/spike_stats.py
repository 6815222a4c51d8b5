"""Spiking activity, thresholds, membrane histograms and energy of a trained spiking model.

    python tools/analysis_tools/spike_stats.py CONFIG CHECKPOINT [--num-images 200]
        [--out-dir DIR] [--hist-layers NAME ...] [--mac-pj 4.6] [--ac-pj 0.9]

Runs the model in eval mode over the first N images (or event windows) of the config's test
dataloader and
writes ``stats.json``, ``report.md``, ``firing_rate.png`` and ``membrane_hist.png`` to DIR
(default: ``<checkpoint dir>/spike_stats``). See mmdet_hoyer/analysis/spike_stats.py.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.analysis import AC_PJ, MAC_PJ
from mmdet_hoyer.analysis.spike_stats import collect_spike_stats, write_spike_report
from mmdet_hoyer.utils import load_trained_model


def parse_args():
    p = argparse.ArgumentParser(description='spike statistics and energy of a spiking model')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num-images', type=int, default=200, help='validation images to run')
    p.add_argument('--out-dir', help='output folder (default: <checkpoint dir>/spike_stats)')
    p.add_argument('--hist-layers', nargs='+', help='spiking layers to histogram '
                   '(module names; default: 4 spread from first to last)')
    p.add_argument('--mac-pj', type=float, default=MAC_PJ, help='energy per MAC (pJ)')
    p.add_argument('--ac-pj', type=float, default=AC_PJ, help='energy per AC (pJ)')
    p.add_argument('--margin', type=float, default=0.1, help='near-threshold band half-width')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    return p.parse_args()


def main():
    args = parse_args()
    if args.num_images < 1:
        raise SystemExit(f'error: --num-images must be >= 1, got {args.num_images}')
    if args.mac_pj <= 0 or args.ac_pj <= 0:
        raise SystemExit('error: --mac-pj and --ac-pj must be > 0')
    cfg, model = load_trained_model(args.config, args.checkpoint, args.cfg_options)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    # an event camera's window as counts: its first conv adds weights once per event
    event_input = any(t.get('type') == 'EventHistogram'
                      for t in cfg.test_dataloader.dataset.get('pipeline', []))
    try:
        stats = collect_spike_stats(model, loader, args.num_images, args.hist_layers,
                                    args.mac_pj, args.ac_pj, args.margin, event_input)
    except (ValueError, RuntimeError) as e:
        raise SystemExit(f'error: {e}')
    stats['config'], stats['checkpoint'] = args.config, args.checkpoint
    out_dir = args.out_dir or osp.join(osp.dirname(args.checkpoint), 'spike_stats')
    paths = write_spike_report(stats, out_dir, title=f'Spike statistics: {osp.basename(args.config)}')
    ops = stats['operations']
    print(f"images {stats['num_images']}  firing rate {stats['network_firing_rate']:.4f}  "
          f"SNN {ops['snn']['energy_pj'] / 1e6:.3f} uJ  ANN {ops['ann']['energy_pj'] / 1e6:.3f} uJ  "
          f"ratio {ops['efficiency_ratio']:.2f}x")
    for r in stats['energy_model']['rows']:
        print(f"  {r['assumption']:<26} SNN {r['snn_pj'] / 1e6:8.2f} uJ  "
              f"ANN {r['ann_pj'] / 1e6:8.2f} uJ  ratio {r['ratio']:.2f}x")
    print('written:', ', '.join(paths.values()))


if __name__ == '__main__':
    main()
