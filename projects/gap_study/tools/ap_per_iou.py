"""AP at each of COCO's ten IoU thresholds, per detector, and where a mAP gap lies along them.

    python tools/test.py CONFIG CHECKPOINT --cfg-options \
        test_evaluator.outfile_prefix=work_dirs/ap/snn        # writes work_dirs/ap/snn.bbox.json
    python projects/gap_study/tools/ap_per_iou.py data/digits_det/annotations/instances_val.json \
        "SNN=work_dirs/ap/snn.bbox.json,work_dirs/ap/snn_s1.bbox.json" "ANN twin=work_dirs/ap/ann.bbox.json" \
        --pair "SNN:ANN twin" [--out docs/research/accuracy.md --marker ap-per-iou] [--plot F.png]

Each run is ``LABEL=JSON[,JSON...]``: the COCO results MMDetection's ``CocoMetric`` writes with
``outfile_prefix`` (several files: seeds of one setting, their APs averaged). The table gives
the bbox AP at IoU 0.50, 0.55, ..., 0.95 (pycocotools' COCOeval, area all, 100 detections; the
mean is ``coco/bbox_mAP``); each ``--pair LOW:HIGH`` adds the difference per threshold and
its share of the mAP difference (:mod:`mmdet_hoyer.analysis.ap_per_iou`). ``--out`` writes the
table (between ``<!-- MARKER -->`` markers with ``--marker``), ``--plot`` a figure of AP against
the threshold.
"""
import argparse
import contextlib
import io
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple

import numpy as np
from pycocotools.coco import COCO

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '../../..')))  # the repo: projects.*
from projects.gap_study.ap_per_iou import ap_per_iou, gap_shares  # noqa: E402
from mmdet_hoyer.utils.markdown import write_between_markers  # noqa: E402


def parse_run(arg: str) -> Tuple[str, List[str]]:
    label, sep, files = arg.partition('=')
    paths = [f for f in files.split(',') if f]
    if not sep or not label.strip() or not paths:
        raise SystemExit(f'ap_per_iou: a run must be LABEL=JSON[,JSON...] (COCO results from '
                         f'CocoMetric\'s outfile_prefix), got {arg!r}')
    return label.strip(), paths


def parse_pair(arg: str, labels: List[str]) -> Tuple[str, str]:
    low, sep, high = arg.partition(':')
    if not sep or low not in labels or high not in labels:
        raise SystemExit(f'ap_per_iou: --pair must be LOW:HIGH with two run labels of '
                         f'{labels}, got {arg!r}')
    return low, high


def fmt_row(name: str, seeds: str, values: np.ndarray, last: str) -> str:
    return f'| {name} | {seeds} | ' + ' | '.join(f'{v:.3f}' for v in values) + f' | {last} |'


def table(thresholds: np.ndarray, aps: Dict[str, np.ndarray], seeds: Dict[str, int],
          pairs: List[Tuple[str, str]]) -> str:
    head = ('| run | seeds | ' + ' | '.join(f'AP@{t:.2f}' for t in thresholds) + ' | mAP |\n'
            '|---|---|' + '---|' * len(thresholds) + '---|')
    rows = [fmt_row(k, str(seeds[k]), v, f'{v.mean():.3f}') for k, v in aps.items()]
    for low, high in pairs:
        diff = aps[high] - aps[low]
        rows.append(fmt_row(f'{high} − {low}', '', diff, f'{diff.mean():+.3f}'))
        try:
            shares = gap_shares(aps[low], aps[high])
        except ValueError:
            continue
        rows.append(fmt_row(f'share of the mAP gap ({low} / {high})', '', shares, '1'))
        ratio = aps[low] / np.where(aps[high] > 0, aps[high], np.nan)
        rows.append(f'| {low}/{high} | | ' + ' | '.join(
            '–' if np.isnan(r) else f'{r:.3f}' for r in ratio) +
            f' | {aps[low].mean() / aps[high].mean():.3f} |')
    return head + '\n' + '\n'.join(rows)


def plot(path: str, thresholds: np.ndarray, aps: Dict[str, np.ndarray]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ap in aps.items():
        ax.plot(thresholds, ap, marker='o', label=f'{label} (mAP {ap.mean():.3f})')
    ax.set_xlabel('IoU threshold')
    ax.set_ylabel('bbox AP')
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description='bbox AP at each IoU threshold of COCO mAP')
    p.add_argument('ann_file', help='COCO ground truth json of the test set')
    p.add_argument('runs', nargs='+', help='LABEL=JSON[,JSON...] (CocoMetric results; seeds)')
    p.add_argument('--pair', action='append', default=[],
                   help='LOW:HIGH, two labels: difference and share of the mAP gap')
    p.add_argument('--out', help='also write the table to this markdown file')
    p.add_argument('--marker', help='write between <!-- MARKER --> and <!-- /MARKER --> in --out')
    p.add_argument('--plot', help='write a figure of AP against the IoU threshold')
    args = p.parse_args(argv)
    if not osp.isfile(args.ann_file):
        raise SystemExit(f'ap_per_iou: ann_file {args.ann_file!r} is not a file (the COCO '
                         'annotation json of the test set, e.g. test_evaluator.ann_file)')
    runs = [parse_run(a) for a in args.runs]
    labels = [label for label, _ in runs]
    if len(set(labels)) != len(labels):
        raise SystemExit(f'ap_per_iou: run labels must be distinct, got {labels}')
    pairs = [parse_pair(a, labels) for a in args.pair]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(args.ann_file)
    aps, seeds, thresholds = {}, {}, None
    for label, paths in runs:
        per_seed = []
        for path in paths:
            try:
                thresholds, ap = ap_per_iou(gt, path, source=f'{label}: {path}')
            except ValueError as e:
                raise SystemExit(f'ap_per_iou: {e}') from None
            per_seed.append(ap)
        aps[label], seeds[label] = np.mean(per_seed, axis=0), len(paths)
    text = table(thresholds, aps, seeds, pairs)
    print(text)
    if args.out:
        write_between_markers(args.out, args.marker, text)
    if args.plot:
        plot(args.plot, thresholds, aps)
    return text


if __name__ == '__main__':
    main(sys.argv[1:])
