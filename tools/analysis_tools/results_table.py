"""Print (and optionally write) a markdown table of test metrics from work dirs.

    python tools/analysis_tools/results_table.py work_dirs/demo_snn work_dirs/demo_ann [--out F]

Reads ``<work_dir>/test_metrics.json`` written by tools/test.py; work dirs without it are
listed as missing. With exactly two runs, the first spiking and the second its ANN twin, the
SNN/ANN mAP ratios are added.
"""
import argparse
import json
import os.path as osp


def load(work_dir):
    path = osp.join(work_dir, 'test_metrics.json')
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt(value, digits=3):
    return '-' if value is None else f'{value:.{digits}f}'


def main():
    p = argparse.ArgumentParser(description='markdown table of tools/test.py metrics')
    p.add_argument('work_dirs', nargs='+')
    p.add_argument('--out', help='also write the table to this markdown file')
    args = p.parse_args()
    rows = ['| run | mAP | mAP@0.5 | mAP@0.75 | mean firing rate |', '|---|---|---|---|---|']
    found = {}
    for wd in args.work_dirs:
        m = load(wd)
        if m is None:
            rows.append(f'| {osp.basename(osp.normpath(wd))} | (no test_metrics.json) | | | |')
            continue
        found[wd] = m
        rows.append(f'| {osp.basename(osp.normpath(wd))} | {fmt(m.get("coco/bbox_mAP"))} | '
                    f'{fmt(m.get("coco/bbox_mAP_50"))} | {fmt(m.get("coco/bbox_mAP_75"))} | '
                    f'{fmt(m.get("spike_rate"), 4) if "spike_rate" in m else "(analog)"} |')
    text = '\n'.join(rows)
    if len(args.work_dirs) == 2 and len(found) == 2:
        snn, ann = (found[w] for w in args.work_dirs)
        ratios = []
        for key, name in (('coco/bbox_mAP', 'mAP'), ('coco/bbox_mAP_50', 'mAP@0.5')):
            if ann.get(key):
                ratios.append(f'{name} {snn[key] / ann[key]:.3f}')
        text += '\n\nSNN/ANN ratio: ' + ', '.join(ratios)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
