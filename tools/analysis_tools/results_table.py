"""Print (and optionally write) a markdown table of test metrics from work dirs.

    python tools/analysis_tools/results_table.py work_dirs/demo_snn work_dirs/demo_ann [--out F]
    python tools/analysis_tools/results_table.py "SNN (b)=work_dirs/b,work_dirs/b_s1" \
        "ANN twin=work_dirs/ann" [--out F --marker which-start]

Each argument is a run: a work dir, or ``LABEL=DIR[,DIR...]`` for several seeds of one setting
(their mean is shown, each seed's value in brackets). Reads ``<work_dir>/test_metrics.json``
(tools/test.py) and, for spiking runs, ``<work_dir>/spike_stats/stats.json``
(spike_stats.py): the firing rate and the energy per image. List each ANN twin after its
spiking run: an analog run (no ``spike_rate``) gets the ANN energy of the nearest spiking run
before it (the twin has the same layers: every MAC of the SNN's network), and the SNN/ANN
ratios of the metrics are printed for that pair. COCO metrics (mAP, mAP@0.5, mAP@0.75, mAP_s)
or, for VOCMetric runs, the VOC mAP. ``--out`` writes the table (between ``<!-- MARKER -->`` markers when
``--marker`` is given, replacing what was there).
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Dict, List, Optional, Tuple

from mmdet_hoyer.utils.markdown import write_between_markers

COCO = (('coco/bbox_mAP', 'mAP'), ('coco/bbox_mAP_50', 'mAP@0.5'),
        ('coco/bbox_mAP_75', 'mAP@0.75'), ('coco/bbox_mAP_s', 'mAP_s'))
VOC = (('pascal_voc/mAP', 'VOC mAP'),)


def load(work_dir: str) -> Optional[dict]:
    path = osp.join(work_dir, 'test_metrics.json')
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def load_stats(work_dir: str) -> Optional[dict]:
    path = osp.join(work_dir, 'spike_stats', 'stats.json')
    if not osp.exists(path):
        return None
    with open(path) as f:
        stats = json.load(f)
    ops = stats['operations']
    return dict(snn_uj=ops['snn']['energy_pj'] / 1e6, ann_uj=ops['ann']['energy_pj'] / 1e6)


def fmt(value, digits=3):
    return '-' if value is None else f'{value:.{digits}f}'


def parse_run(arg: str) -> Tuple[str, List[str]]:
    label, sep, dirs = arg.rpartition('=')  # a label may hold '=' (pool_on='spikes')
    if not sep:
        return osp.basename(osp.normpath(arg)), [arg]
    dirs = [d for d in dirs.split(',') if d]
    if not label or not dirs:
        raise SystemExit(f'error: run {arg!r}: expected a work dir or LABEL=DIR[,DIR...]')
    return label, dirs


def cell(values: List[Optional[float]], digits: int = 3) -> str:
    """Mean of the seeds, each seed in brackets when there are several."""
    vals = [v for v in values if v is not None]
    if not vals:
        return '-'
    mean = fmt(statistics.fmean(vals), digits)
    if len(values) == 1:
        return mean
    return f'{mean} ({" / ".join(fmt(v, digits) for v in values)})'


def table(runs: List[Tuple[str, List[str]]]) -> Tuple[str, Dict[str, dict]]:
    loaded = {label: [load(d) for d in dirs] for label, dirs in runs}
    voc = any(m and 'pascal_voc/mAP' in m for ms in loaded.values() for m in ms)
    keys = VOC if voc else COCO
    head = ['run', 'seeds', *(name for _, name in keys), 'firing rate', 'energy / image',
            'energy ANN/SNN']
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    summary, twin_uj = {}, []  # twin_uj: the ANN energies of the last spiking run's seeds
    for label, dirs in runs:
        metrics = loaded[label]
        missing = [d for d, m in zip(dirs, metrics) if m is None]
        if missing:
            rows.append(f'| {label} | (no test_metrics.json in {", ".join(missing)}) |'
                        + ' |' * (len(head) - 2))
            continue
        spiking = all('spike_rate' in m for m in metrics)
        stats = [load_stats(d) for d in dirs]
        if spiking:
            rate = cell([m['spike_rate'] for m in metrics], 3)
            have = [s for s in stats if s]
            energy = (f'{statistics.fmean(s["snn_uj"] for s in have):.1f} µJ' if have else
                      '(no spike_stats)')
            ratio = (f'{statistics.fmean(s["ann_uj"] / s["snn_uj"] for s in have):.1f}×'
                     if have else '-')
            twin_uj = [s['ann_uj'] for s in have]
        else:
            rate = 'analog'
            energy = f'{statistics.fmean(twin_uj):.1f} µJ' if twin_uj else '-'
            ratio = '1×'
        rows.append(f'| {label} | {len(dirs)} | '
                    + ' | '.join(cell([m.get(k) for m in metrics]) for k, _ in keys)
                    + f' | {rate} | {energy} | {ratio} |')
        summary[label] = {k: statistics.fmean(m[k] for m in metrics) for k, _ in keys
                          if all(k in m for m in metrics)}
        summary[label]['spiking'] = spiking
    return '\n'.join(rows), summary





def main(argv=None):
    p = argparse.ArgumentParser(description='markdown table of tools/test.py metrics')
    p.add_argument('runs', nargs='+', help='WORK_DIR or LABEL=DIR[,DIR...] (seeds of one run)')
    p.add_argument('--out', help='also write the table to this markdown file')
    p.add_argument('--marker', help='write between <!-- MARKER --> and <!-- /MARKER --> in --out')
    args = p.parse_args(argv)
    runs = [parse_run(a) for a in args.runs]
    text, summary = table(runs)
    lines, last_snn = [], None
    for label, _ in runs:  # each analog run against the nearest spiking run before it
        if label not in summary:
            continue
        if summary[label]['spiking']:
            last_snn = label
        elif last_snn is not None:
            snn, ann = summary[last_snn], summary[label]
            ratios = ', '.join(f'{name} {snn[k] / ann[k]:.3f}' for k, name in COCO + VOC
                               if ann.get(k) and k in snn)
            pair = '' if len(runs) == 2 else f' ({last_snn} / {label})'
            lines.append(f'SNN/ANN ratio{pair}: {ratios}')
    if lines:
        text += '\n\n' + '  \n'.join(lines)
    print(text)
    if args.out:
        write_between_markers(args.out, args.marker, text)


if __name__ == '__main__':
    main(sys.argv[1:])
