"""Tables of the energy assumptions and of int8 accuracy, from finished runs.

    python tools/analysis_tools/energy_table.py "LABEL=SNN_DIR[,SNN_DIR]:ANN_DIR[,ANN_DIR]" ...
        [--out docs/results/energy.md]

Each SNN run dir holds ``spike_stats/stats.json`` (spike_stats.py) and ``test_metrics.json``
(tools/test.py); ``int8/int8_metrics.json`` (int8_eval.py) where measured, likewise for the ANN
dirs, and ``nir_int8/report.json`` (``export_nir.py --int8-weights --eval --report``) for the
SNN's integer NIR graph. Several dirs (seeds) are averaged. Writes two tables between the markers
``energy-assumptions`` and ``energy-int8``.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Dict, List, Optional, Tuple

from mmdet_hoyer.utils.markdown import write_between_markers

METRIC = 'coco/bbox_mAP'


def _load(path: str) -> Optional[dict]:
    return json.load(open(path)) if osp.isfile(path) else None


def parse_run(arg: str) -> Tuple[str, List[str], List[str]]:
    if '=' not in arg or ':' not in arg.split('=', 1)[1]:
        raise SystemExit(f'error: expected "LABEL=SNN_DIR[,...]:ANN_DIR[,...]", got {arg!r}')
    label, dirs = arg.split('=', 1)
    snn, ann = dirs.split(':', 1)
    return label, snn.split(','), ann.split(',')


def assumptions(label: str, snn_dirs: List[str]) -> List[str]:
    """One row per assumption: SNN and ANN µJ per image and ANN/SNN, mean over the seeds."""
    models = [_load(osp.join(d, 'spike_stats', 'stats.json')) for d in snn_dirs]
    models = [m['energy_model'] for m in models if m and 'energy_model' in m]
    if not models:
        raise SystemExit(f'error: {label}: no spike_stats/stats.json with an energy model in '
                         f'{snn_dirs} (run tools/analysis_tools/spike_stats.py)')
    rows = []
    for i, r in enumerate(models[0]['rows']):
        snn = statistics.mean(m['rows'][i]['snn_pj'] for m in models) / 1e6
        ann = statistics.mean(m['rows'][i]['ann_pj'] for m in models) / 1e6
        rows.append(f"| {label} | {r['assumption']} | {snn:.1f} µJ | {ann:.1f} µJ | "
                    f'{ann / snn:.1f}× |')
    return rows


def _mean(dirs: List[str], name: str) -> Optional[Tuple[float, int]]:
    vals = []
    for d in dirs:
        m = _load(osp.join(d, name))
        if m is not None:
            vals.append(float((m.get('metrics') or m.get('eval') or m)[METRIC]))
    return (statistics.mean(vals), len(vals)) if vals else None


def int8_row(label: str, net: str, dirs: List[str], what: str,
             name: str = osp.join('int8', 'int8_metrics.json')) -> Optional[str]:
    dirs = [d for d in dirs if osp.isfile(osp.join(d, name))]  # fp32 of the same seeds
    fp32 = _mean(dirs, 'test_metrics.json')
    q = _mean(dirs, name)
    if fp32 is None or q is None:
        return None
    return (f'| {label} | {net} | {what} | {q[1]} | {fp32[0]:.3f} | {q[0]:.3f} | '
            f'{round(q[0] - fp32[0], 3) + 0.0:+.3f} |')  # + 0.0: no "-0.000"


def main(argv=None) -> Dict[str, str]:
    p = argparse.ArgumentParser(description='energy assumptions and int8 accuracy tables')
    p.add_argument('runs', nargs='+', help='LABEL=SNN_DIR[,SNN_DIR]:ANN_DIR[,ANN_DIR]')
    p.add_argument('--out', help='markdown page to write the tables into (between markers)')
    args = p.parse_args(argv)
    energy = ['| detector | assumption | SNN | ANN twin | ANN/SNN |', '|---|---|---:|---:|---:|']
    int8 = ['| detector | network | quantized | seeds | mAP fp32 | mAP int8 | change |',
            '|---|---|---|---:|---:|---:|---:|']
    for arg in args.runs:
        label, snn, ann = parse_run(arg)
        energy += assumptions(label, snn)
        for row in (int8_row(label, 'SNN', snn, 'weights'),
                    int8_row(label, 'SNN, NIR graph in snnTorch', snn,
                             'weights, one scale per neuron', osp.join('nir_int8', 'report.json')),
                    int8_row(label, 'ANN twin', ann, 'weights + activations')):
            if row:
                int8.append(row)
    tables = {'energy-assumptions': '\n'.join(energy), 'energy-int8': '\n'.join(int8)}
    for marker, text in tables.items():
        print(text + '\n')
        if args.out:
            write_between_markers(args.out, marker, text,
                                  ['tools/analysis_tools/energy_table.py',
                                   *(argv if argv is not None else sys.argv[1:])],
                                  new_page='# Energy\n')
    return tables


if __name__ == '__main__':
    main()
