"""Side-by-side table of a spiking detector and its ANN twin: accuracy, activity, energy.

    python tools/analysis_tools/compare.py SNN_WORKDIR ANN_WORKDIR [--stats STATS_JSON]
        [--out docs/results/demo_comparison.md]

Reads ``<work_dir>/test_metrics.json`` (tools/test.py) of both runs and the SNN's
``stats.json`` (tools/analysis_tools/spike_stats.py; default ``SNN_WORKDIR/spike_stats/``).
The ANN twin is the same network, so its operation count is the SNN's dense MAC count.
"""
import argparse
import json
import os.path as osp

ACCURACY_KEYS = (('coco/bbox_mAP', 'mAP'), ('coco/bbox_mAP_50', 'mAP@0.5'),
                 ('coco/bbox_mAP_75', 'mAP@0.75'), ('pascal_voc/mAP', 'VOC mAP'),
                 ('accuracy/top1', 'top-1'))


def _load(path: str, what: str) -> dict:
    if not osp.isfile(path):
        raise SystemExit(f'error: {what} {path!r} not found')
    with open(path) as f:
        return json.load(f)


def comparison(snn: dict, ann: dict, stats: dict) -> list:
    """Rows ``(quantity, snn value, ann value, ratio text)`` as strings."""
    rows = []
    for key, name in ACCURACY_KEYS:
        if key in snn and key in ann:
            ratio = f'{snn[key] / ann[key]:.3f}' if ann[key] else '-'
            rows.append((name, f'{snn[key]:.3f}', f'{ann[key]:.3f}', f'SNN/ANN {ratio}'))
    ops = stats['operations']
    rows += [
        ('firing rate', f"{stats['network_firing_rate']:.4f}", '(analog)', ''),
        ('MACs / image', f"{ops['snn']['macs'] / 1e6:.2f} M", f"{ops['ann']['macs'] / 1e6:.2f} M",
         ''),
        ('ACs / image', f"{ops['snn']['acs'] / 1e6:.2f} M", '0', ''),
        ('energy / image', f"{ops['snn']['energy_pj'] / 1e6:.2f} µJ",
         f"{ops['ann']['energy_pj'] / 1e6:.2f} µJ", f"ANN/SNN {ops['efficiency_ratio']:.2f}×"),
    ]
    return rows


def main():
    p = argparse.ArgumentParser(description='SNN vs ANN twin table')
    p.add_argument('snn_work_dir')
    p.add_argument('ann_work_dir')
    p.add_argument('--stats', help='SNN stats.json (default: SNN_WORKDIR/spike_stats/stats.json)')
    p.add_argument('--out', help='also write the markdown table (and a .json next to it)')
    args = p.parse_args()
    snn = _load(osp.join(args.snn_work_dir, 'test_metrics.json'), 'SNN metrics')
    ann = _load(osp.join(args.ann_work_dir, 'test_metrics.json'), 'ANN metrics')
    stats = _load(args.stats or osp.join(args.snn_work_dir, 'spike_stats', 'stats.json'),
                  'SNN spike statistics (run tools/analysis_tools/spike_stats.py)')
    rows = comparison(snn, ann, stats)
    c = stats['operations']['constants']
    lines = ['| | SNN | ANN twin | |', '|---|---:|---:|---|']
    lines += [f'| {a} | {b} | {c_} | {d} |' for a, b, c_, d in rows]
    lines += ['', f"Energy at 45 nm: MAC {c['mac_pj']} pJ, AC {c['ac_pj']} pJ; "
              f"{stats['num_images']} images, input {stats['input_shape']}."]
    text = '\n'.join(lines)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
        with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
            json.dump(dict(rows=rows, snn=snn, ann=ann,
                           operations={k: v for k, v in stats['operations'].items()
                                       if k != 'layers'}), f, indent=1)


if __name__ == '__main__':
    main()
