"""Which objects the spiking detector misses and its ANN twin finds: recall per object size,
contrast and background luminance.

    python projects/gap_study/tools/recall_breakdown.py SNN_CONFIG SNN_CHECKPOINT \
        [--ann ANN_CONFIG ANN_CHECKPOINT] [--score-thr 0.3] [--iou-thr 0.5] [--bins 4] \
        [--num-images N] [--out docs/research/recall_breakdown.md]

Runs both detectors through MMDetection's ``init_detector`` / ``inference_detector`` on the SNN
config's test set. An object is found when a prediction of its class overlaps it with IoU >=
``--iou-thr`` at score >= ``--score-thr`` (:mod:`mmdet_hoyer.analysis.recall_breakdown`
defines the attributes). Bins are quantiles of each attribute over the objects (equal counts),
so the table adapts to any dataset. Writes a Markdown table (recall per bin, the count, the
SNN/ANN ratio, the mean best IoU as a localisation figure; then the box errors of the best-IoU
prediction, centre offset and log size ratio, per size bin, on the objects every detector
matches) and a plot beside it (``.png``).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List

import mmcv
import numpy as np
import torch

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.utils.cli import add_snn_ann_args, check_snn_ann_files, load_snn_ann

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '../../..')))  # the repo: projects.*
from projects.gap_study.recall_breakdown import (BOX_ERRORS, best_match, binned_mean,  # noqa: E402
                                                 box_errors, edge_distance, luminance,
                                                 object_contrast, quantile_edges)

ATTRIBUTES = (('size', '√(w·h), px of the original image'),
              ('contrast', 'mean |L − background| of the 15 % most distinct pixels'),
              ('background', 'mean luminance of a 3-px ring around the box'),
              ('edge', 'distance from the box to the nearest image edge, px'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='recall per object size / contrast / background / distance from the edge')
    add_snn_ann_args(p)
    p.add_argument('--score-thr', type=float, default=0.3, help='an object is found by a '
                   'prediction of its class with at least this score')
    p.add_argument('--iou-thr', type=float, default=0.5, help='... and at least this IoU')
    p.add_argument('--bins', type=int, default=4, help='quantile bins per attribute')
    p.add_argument('--num-images', type=int, help='the first N test images (default: all)')
    p.add_argument('--out', default='docs/research/recall_breakdown.md')
    return p.parse_args(argv)


def _check_args(args) -> None:
    check_snn_ann_files(args)
    for name in ('score_thr', 'iou_thr'):
        value = getattr(args, name)
        if not 0.0 <= value <= 1.0:
            raise SystemExit(f'error: --{name.replace("_", "-")} must be in [0, 1], got {value}')
    if args.bins < 1:
        raise SystemExit(f'error: --bins must be >= 1, got {args.bins}')
    if args.num_images is not None and args.num_images < 1:
        raise SystemExit(f'error: --num-images must be >= 1, got {args.num_images}')


def _cell(rows: List[Dict], i: int) -> str:
    r = rows[i]['mean']
    return '–' if r is None else f'{r:.3f}'


def _bin_label(rows: List[Dict], i: int) -> str:
    """``[lo, hi)`` of bin ``i`` of :func:`binned_mean`'s rows (``]`` for the last, which holds
    its upper edge)."""
    r = rows[i]
    return f'[{r["lo"]:.1f}, {r["hi"]:.1f}{"]" if i == len(rows) - 1 else ")"}'


def write_table(path: str, command: str, objects: Dict[str, np.ndarray],
                results: Dict[str, Dict[str, np.ndarray]], score_thr: float, iou_thr: float,
                bins: int) -> Dict[str, Dict[str, List[Dict]]]:
    """Markdown tables of recall per attribute bin for each model; returns the binned rows."""
    names = list(results)
    tables = {}
    lines = ['# Recall by object attribute', '',
             f'`{command}`', '',
             f'An object is found when a prediction of its class has IoU ≥ {iou_thr} and score '
             f'≥ {score_thr}. {len(objects["size"])} objects. Bins: quantiles (equal counts). '
             'Best IoU: the mean over the objects of the highest IoU of any prediction of '
             'their class (localisation).', '',
             '| detector | recall | mean best IoU |', '|---|---:|---:|']
    for n in names:
        lines.append(f'| {n} | {results[n]["found"].mean():.3f} | '
                     f'{results[n]["iou"].mean():.3f} |')
    for attr, meaning in ATTRIBUTES:
        edges = quantile_edges(objects[attr], bins)
        tables[attr] = {n: binned_mean(objects[attr], results[n]['found'], edges)
                        for n in names}
        ious = {n: binned_mean(objects[attr], results[n]['iou'], edges) for n in names}
        head = '| ' + attr + ' | objects | ' + ' | '.join(f'{n} recall' for n in names)
        head += ' | ' + ' | '.join(f'{n} best IoU' for n in names)
        if len(names) == 2:
            head += f' | {names[0]}/{names[1]} recall'
        lines += ['', f'## {attr}: {meaning}', '', head + ' |',
                  '|' + '---|' + '---:|' * (1 + 2 * len(names) + (len(names) == 2))]
        first = tables[attr][names[0]]
        for i, row in enumerate(first):
            cells = [_bin_label(first, i), str(row['n'])]
            cells += [_cell(tables[attr][n], i) for n in names]
            cells += [_cell(ious[n], i) for n in names]
            if len(names) == 2:
                a, b = tables[attr][names[0]][i]['mean'], tables[attr][names[1]][i]['mean']
                cells.append('–' if a is None or not b else f'{a / b:.3f}')
            lines.append('| ' + ' | '.join(cells) + ' |')
    lines += box_error_lines(objects['size'], results, iou_thr, bins)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return tables


def box_error_lines(size: np.ndarray, results: Dict[str, Dict[str, np.ndarray]],
                    iou_thr: float, bins: int) -> List[str]:
    """Markdown section: mean box errors of each detector's best-IoU prediction per size bin,
    on the objects that every detector matches with IoU >= ``iou_thr`` (the same objects for
    each, so that a detector is not credited for the hard objects it misses)."""
    names = list(results)
    common = np.all([results[n]['iou'] >= iou_thr for n in names], axis=0)
    lines = ['', '## box errors of the best-IoU prediction', '',
             f'{int(common.sum())} objects that every detector matches with IoU ≥ {iou_thr}; '
             'centre offset in units of the object\'s width / height, absolute log ratio of the '
             'widths / heights. Size bins: quantiles of √(w·h) over these objects.', '',
             '| size | detector | objects | ' + ' | '.join(BOX_ERRORS) + ' |',
             '|---|---|---:|' + '---:|' * len(BOX_ERRORS)]
    if not common.any():
        return lines + ['| – | – | 0 |' + ' – |' * len(BOX_ERRORS)]
    sel_size = size[common]
    errors = {n: results[n]['err'][common] for n in names}
    edges = quantile_edges(sel_size, bins)
    # per detector and error column: each size bin's count and mean, binned as the recall tables
    binned = {n: [binned_mean(sel_size, errors[n][:, k], edges) for k in range(len(BOX_ERRORS))]
              for n in names}
    for i, row in enumerate(binned[names[0]][0]):
        for n in names:
            means = [binned[n][k][i]['mean'] for k in range(len(BOX_ERRORS))]
            cells = ['–' if m is None else f'{m:.3f}' for m in means]
            lines.append(f'| {_bin_label(binned[names[0]][0], i)} | {n} | {row["n"]} | '
                         + ' | '.join(cells) + ' |')
    overall = {n: errors[n].mean(0) for n in names}
    for n in names:
        lines.append(f'| all | {n} | {len(sel_size)} | '
                     + ' | '.join(f'{m:.3f}' for m in overall[n]) + ' |')
    if len(names) == 2:
        ratio = overall[names[0]] / np.maximum(overall[names[1]], 1e-12)
        lines += ['', f'{names[0]}/{names[1]} error, all objects: ' + ', '.join(
            f'{k} {r:.2f}' for k, r in zip(BOX_ERRORS, ratio))]
    return lines


def plot(path: str, tables: Dict[str, Dict[str, List[Dict]]]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.4))
    for ax, (attr, per_model) in zip(np.atleast_1d(axes), tables.items()):
        for name, rows in per_model.items():
            xs = [(r['lo'] + r['hi']) / 2 for r in rows if r['mean'] is not None]
            ys = [r['mean'] for r in rows if r['mean'] is not None]
            ax.plot(xs, ys, marker='o', label=name)
        ax.set_xlabel(attr)
        ax.set_ylabel('recall')
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    args = parse_args(argv)
    _check_args(args)
    from mmdet.apis import inference_detector

    snn, ann, dataset = load_snn_ann(args)
    models = {'SNN': snn} if ann is None else {'SNN': snn, 'ANN twin': ann}
    count = len(dataset) if args.num_images is None else min(args.num_images, len(dataset))

    objects = {attr: [] for attr, _ in ATTRIBUTES}
    results = {n: dict(found=[], iou=[], err=[]) for n in models}
    for i in range(count):
        info = dataset.get_data_info(i)
        kept = [inst for inst in info['instances'] if not inst.get('ignore_flag', 0)]
        if not kept:
            continue
        gt_boxes = torch.tensor([inst['bbox'] for inst in kept], dtype=torch.float32)
        gt_labels = torch.tensor([inst['bbox_label'] for inst in kept])
        lum = luminance(mmcv.imread(info['img_path'], channel_order='rgb'))
        for box in gt_boxes.tolist():
            contrast, background = object_contrast(lum, box)
            objects['size'].append(float(np.sqrt((box[2] - box[0]) * (box[3] - box[1]))))
            objects['contrast'].append(contrast)
            objects['background'].append(background)
            objects['edge'].append(edge_distance(box, lum.shape[1], lum.shape[0]))
        for name, model in models.items():
            pred = inference_detector(model, info['img_path']).pred_instances  # no_grad inside
            scores, ious, index = best_match(gt_boxes, gt_labels, pred.bboxes, pred.scores,
                                             pred.labels, args.iou_thr)
            found = (ious >= args.iou_thr) & (scores >= args.score_thr)
            results[name]['found'] += found.tolist()
            results[name]['iou'] += ious.tolist()
            err = torch.full((len(gt_boxes), len(BOX_ERRORS)), float('nan'))
            hit = index >= 0
            err[hit] = box_errors(gt_boxes[hit], pred.bboxes[index[hit]].float().cpu())
            results[name]['err'] += err.tolist()
    if not objects['size']:
        raise SystemExit(f'error: no ground-truth object in the first {count} test images')
    objects = {k: np.asarray(v) for k, v in objects.items()}
    results = {n: {k: np.asarray(v, dtype=float) for k, v in r.items()}
               for n, r in results.items()}
    command = 'python projects/gap_study/tools/recall_breakdown.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    tables = write_table(args.out, command, objects, results, args.score_thr, args.iou_thr,
                         args.bins)
    png = osp.splitext(args.out)[0] + '.png'
    plot(png, tables)
    summary = ', '.join(f'{n} {r["found"].mean():.3f}' for n, r in results.items())
    print(f'recall of {len(objects["size"])} objects: {summary}; table written to {args.out}, '
          f'plot to {png}')


if __name__ == '__main__':
    main()
