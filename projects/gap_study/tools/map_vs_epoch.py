"""Validation mAP per epoch of several runs (e.g. an SNN and its ANN twin), table and plot.

    python projects/gap_study/tools/map_vs_epoch.py LABEL=WORK_DIR [LABEL=WORK_DIR ...] \
        [--metrics coco/bbox_mAP_50 coco/bbox_mAP] --out docs/results/map_vs_epoch.md

Reads MMEngine's training logs (``WORK_DIR/<timestamp>/vis_data/scalars.json``); writes the
markdown table to ``--out`` and the plot next to it (same name, ``.png``).
"""
import argparse
import os
import os.path as osp
import shlex
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '../../..')))  # the repo: projects.*
from projects.gap_study.val_curves import curves_table, plot_curves, read_val_curve  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description='validation metric per epoch, several runs')
    p.add_argument('runs', nargs='+', help='LABEL=WORK_DIR')
    p.add_argument('--metrics', nargs='+', default=['coco/bbox_mAP_50', 'coco/bbox_mAP'])
    p.add_argument('--out', required=True, help='markdown file (the plot goes beside it)')
    args = p.parse_args(argv)
    runs = {}
    for item in args.runs:
        label, sep, work_dir = item.partition('=')
        if not sep or not label or not work_dir:
            raise SystemExit(f'error: runs: expected LABEL=WORK_DIR, got {item!r}')
        if not osp.isdir(work_dir):
            raise SystemExit(f'error: runs: {work_dir!r} is not a directory')
        runs[label] = work_dir
    try:
        curves = {m: {label: read_val_curve(d, m) for label, d in runs.items()}
                  for m in args.metrics}
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    png = osp.splitext(args.out)[0] + '.png'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    plot_curves(curves, png)
    text = '\n\n'.join(curves_table(c, m) for m, c in curves.items())
    with open(args.out, 'w') as f:
        f.write(f'Produced by `python projects/gap_study/tools/map_vs_epoch.py '
                f'{shlex.join(args.runs)} --metrics {shlex.join(args.metrics)} '
                f'--out {shlex.quote(args.out)}`\n\n'
                f'{text}\n\n![{", ".join(args.metrics)} per epoch]({osp.basename(png)})\n')
    print(text)
    print(f'written {args.out} and {png}')


if __name__ == '__main__':
    main()
