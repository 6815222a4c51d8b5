"""Validation metrics per epoch from MMEngine's logs (``<work_dir>/<timestamp>/vis_data/
scalars.json``): the curves behind a "mAP vs epoch" comparison of an SNN and its ANN twin."""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence


def training_logs(work_dir: str) -> List[str]:
    """The ``scalars.json`` of the training runs in ``work_dir`` (those that logged a loss),
    oldest first; a resumed run's files all count."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    runs = []
    for path in files:
        with open(path) as f:
            if any('"loss"' in line for line in f):
                runs.append(path)
    return runs


def read_val_curve(work_dir: str, metric: str) -> Dict[int, float]:
    """``{epoch: value}`` of ``metric`` (e.g. ``'coco/bbox_mAP_50'``) at each validation of the
    training runs in ``work_dir``; a later log overrides an earlier one for the same epoch."""
    logs = training_logs(work_dir)
    if not logs:
        raise FileNotFoundError(f'{work_dir}: no training log (*/vis_data/scalars.json with a '
                                'loss) found')
    curve: Dict[int, float] = {}
    for path in logs:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if metric in entry and 'loss' not in entry and 'step' in entry:
                    curve[int(entry['step'])] = float(entry[metric])
    if not curve:
        raise ValueError(f'{work_dir}: the training logs have no validation entry for '
                         f'{metric!r}')
    return dict(sorted(curve.items()))


def curves_table(curves: Dict[str, Dict[int, float]], metric: str) -> str:
    """A markdown table: one row per run, one column per epoch any run validated at."""
    epochs: Sequence[int] = sorted({e for c in curves.values() for e in c})
    head = f'| run ({metric}) | ' + ' | '.join(f'epoch {e}' for e in epochs) + ' |'
    rows = [head, '|---|' + '---:|' * len(epochs)]
    for label, curve in curves.items():
        rows.append(f'| {label} | ' + ' | '.join(
            f'{curve[e]:.3f}' if e in curve else '' for e in epochs) + ' |')
    return '\n'.join(rows)


def plot_curves(curves_by_metric: Dict[str, Dict[str, Dict[int, float]]], path: str) -> None:
    """One panel per metric, one line per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(curves_by_metric), figsize=(4.5 * len(curves_by_metric), 3.4),
                             squeeze=False)
    for ax, (metric, curves) in zip(axes[0], curves_by_metric.items()):
        for label, curve in curves.items():
            ax.plot(list(curve), list(curve.values()), marker='o', label=label)
        ax.set_xlabel('epoch')
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
