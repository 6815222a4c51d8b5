"""A side-by-side picture of what detectors find: ground truth, spiking detector, ANN twin, and
the spike maps of the spiking detector for the same image."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from .firing_rate import spiking_layers


def named_spiking_layers(model: nn.Module, names: Sequence[str]) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of the given spiking layers (for :class:`FeatureMapRecorder`), with an
    error naming those that are not spiking layers of ``model``."""
    modules = dict(spiking_layers(model))
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f'spike layers: {unknown} are not spiking layers of the model '
                         f'(first ones: {list(modules)[:4]})')
    return [(n, modules[n]) for n in names]


def default_spike_layers(shapes: Dict[str, Tuple[int, ...]]) -> List[str]:
    """One backbone and one neck layer worth looking at, from ``{layer: (C, H, W)}`` in
    definition order: the deepest backbone layer still at ≥ 1/4 of the largest map's height
    (objects remain recognisable), and the last neck layer at the neck's finest resolution."""
    top = max(s[-2] for s in shapes.values())
    backbone = [n for n, s in shapes.items() if n.startswith('backbone.') and s[-2] * 4 >= top]
    neck = [n for n in shapes if n.startswith('neck.')]
    picks = backbone[-1:]
    if neck:
        finest = max(shapes[n][-2] for n in neck)
        picks += [n for n in neck if shapes[n][-2] == finest][-1:]
    return picks


def box_mask(hw: Tuple[int, int], boxes: Tensor, scale: float) -> Tensor:
    """``(H, W)`` bool mask of the cells whose centre lies in one of ``boxes`` (x1, y1, x2, y2
    in input pixels), for a map of ``scale`` cells per input pixel."""
    h, w = hw
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / scale
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / scale
    mask = torch.zeros(h, w, dtype=torch.bool)
    for x1, y1, x2, y2 in boxes.tolist():
        mask |= ((ys >= y1) & (ys <= y2))[:, None] & ((xs >= x1) & (xs <= x2))[None, :]
    return mask


def object_selective_channel(maps: Sequence[Tensor], masks: Sequence[Tensor]) -> int:
    """The channel that fires most selectively on the objects: over images, the largest mean
    of (firing rate inside the object mask − rate outside), for ``(C, H, W)`` spike maps and
    ``(H, W)`` masks. Images whose mask is empty or full are skipped; with none left, the
    channel whose rate ``p`` maximises ``p(1 − p)``."""
    scores = []
    for spikes, mask in zip(maps, masks):
        if mask.any() and not mask.all():
            s = spikes.float()
            scores.append(s[:, mask].mean(1) - s[:, ~mask].mean(1))
    if scores:
        return int(torch.argmax(torch.stack(scores).mean(0)))
    p = torch.stack([m.float().mean(dim=(1, 2)) for m in maps]).mean(0)
    return int(torch.argmax(p * (1 - p)))


def plot_detection_figure(rows: List[Dict], path: str, dpi: int = 110) -> None:
    """Write the figure: one row per image with ``panels`` = list of ``(title, HxWx3 RGB or
    HxW 0/1 array)``; binary maps are drawn black on white."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ncol = max(len(r['panels']) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.3 * ncol, 2.5 * len(rows)),
                             squeeze=False)
    for r, row in enumerate(rows):
        for c in range(ncol):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(row['panels']):
                ax.axis('off')
                continue
            title, image = row['panels'][c]
            if image.ndim == 2:  # a binary map: keep a frame, white is "no spike"
                ax.imshow(image, cmap='gray_r', vmin=0, vmax=1, interpolation='nearest')
                for spine in ax.spines.values():
                    spine.set_color('0.6')
            else:
                ax.imshow(image)
                ax.axis('off')
            ax.set_title(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def draw_instances(visualizer, image_rgb: np.ndarray, sample, gt: bool,
                   score_thr: float) -> np.ndarray:
    """``image_rgb`` with the sample's ground truth (``gt``) or predictions drawn by
    MMDetection's ``DetLocalVisualizer``."""
    visualizer.add_datasample('image', image_rgb, sample, draw_gt=gt, draw_pred=not gt,
                              show=False, pred_score_thr=score_thr)
    return visualizer.get_image()


def gt_sample(data_info: Dict):
    """A ``DetDataSample`` holding a dataset entry's boxes (original image pixels)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    inst = [i for i in data_info.get('instances', []) if not i.get('ignore_flag', 0)]
    gt = InstanceData()
    gt.bboxes = torch.tensor([i['bbox'] for i in inst], dtype=torch.float32).reshape(-1, 4)
    gt.labels = torch.tensor([i['bbox_label'] for i in inst], dtype=torch.long)
    sample = DetDataSample()
    sample.gt_instances = gt
    return sample
