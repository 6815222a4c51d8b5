"""Which objects a detector misses: per-object recall broken down by object attributes.

For every ground-truth box the best score of a prediction with its class and IoU >= a threshold
is taken (0 when none); an object is *found* when that score reaches a score threshold. Recall
is then tabulated per bin of an attribute measured on the image itself, so that any dataset
works without extra annotations:

- ``size``: √(w·h) of the box in the original image's pixels;
- ``contrast``: how far the object's most distinct pixels are from the local background, the
  mean |L − b| over the 15 % of the box's pixels furthest from b, where L is the luminance
  (ITU-R 601: 0.299 R + 0.587 G + 0.114 B) and b the mean luminance of a ring of ``ring``
  pixels around the box;
- ``background``: b;
- ``edge``: the distance from the box to the nearest image edge, in the original image's
  pixels (0 for a box that touches it): beyond the edge convolutions read zero padding and
  YOLOv3's batches their padding, so a network that fires along that border can treat objects
  there differently.

The functions are pure (NumPy / tensors in, numbers out) so they are tested on hand-made cases;
``tools/analysis_tools/recall_breakdown.py`` runs detectors over a test set with them.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

#: ITU-R BT.601 luma weights for RGB
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luminance(image_rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB image (any numeric dtype) -> (H, W) float32 luminance."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f'luminance: expected an (H, W, 3) RGB image, got shape '
                         f'{tuple(image_rgb.shape)}')
    return image_rgb.astype(np.float32) @ LUMA


def object_contrast(lum: np.ndarray, box: Sequence[float], ring: int = 3,
                    frac: float = 0.15) -> Tuple[float, float]:
    """Contrast and background luminance of the object in ``box`` (x1, y1, x2, y2, pixels).

    Background b: mean of ``lum`` over a ring of ``ring`` px around the box (the parts inside
    the image; the box's median when the box fills the image). Contrast: mean |lum − b| over
    the ``frac`` of the box's pixels furthest from b (at least one pixel).
    """
    if not 0 < frac <= 1:
        raise ValueError(f'object_contrast: frac must be in (0, 1], got {frac}')
    h, w = lum.shape
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f'object_contrast: box {tuple(box)} has no pixel inside the '
                         f'{w}x{h} image')
    inner = lum[y0:y1, x0:x1]
    outer = lum[max(y0 - ring, 0):y1 + ring, max(x0 - ring, 0):x1 + ring]
    n_ring = outer.size - inner.size
    background = (float((outer.sum() - inner.sum()) / n_ring) if n_ring > 0
                  else float(np.median(inner)))
    dev = np.abs(inner.ravel() - background)
    k = max(1, int(round(frac * dev.size)))
    contrast = float(np.sort(dev)[-k:].mean())
    return contrast, background


def edge_distance(box: Sequence[float], width: float, height: float) -> float:
    """Distance of ``box`` (x1, y1, x2, y2, pixels) from the nearest edge of a ``width`` x
    ``height`` image: min(x1, y1, width − x2, height − y2), clamped at 0."""
    if width <= 0 or height <= 0:
        raise ValueError(f'edge_distance: the image size must be positive, got {width}x{height}')
    x1, y1, x2, y2 = (float(v) for v in box)
    return max(0.0, min(x1, y1, width - x2, height - y2))


def best_match(gt_boxes: torch.Tensor, gt_labels: torch.Tensor, pred_boxes: torch.Tensor,
               pred_scores: torch.Tensor, pred_labels: torch.Tensor,
               iou_thr: float = 0.5) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each ground-truth box: the highest score among predictions of its label with IoU >=
    ``iou_thr`` (0 when none), the highest IoU of any prediction of its label (0 when none) and
    the index of that best-IoU prediction (−1 when none overlaps). Boxes are (N, 4) x1, y1, x2,
    y2. Predictions may match several objects (no one-to-one assignment: this asks whether the
    detector saw the object, not what COCO's matching counts)."""
    from mmdet.structures.bbox import bbox_overlaps

    n = len(gt_boxes)
    scores, ious = torch.zeros(n), torch.zeros(n)
    index = torch.full((n, ), -1, dtype=torch.long)
    if n == 0 or len(pred_boxes) == 0:
        return scores, ious, index
    overlaps = bbox_overlaps(gt_boxes.float(), pred_boxes.float())  # (n, m)
    same = gt_labels[:, None] == pred_labels[None, :]
    overlaps = torch.where(same, overlaps, torch.zeros_like(overlaps))
    ious, index = overlaps.max(1)
    index = index.masked_fill(ious <= 0, -1)
    hit = overlaps >= iou_thr
    scores = torch.where(hit, pred_scores[None, :].float().expand_as(overlaps),
                         torch.zeros_like(overlaps)).max(1).values
    return scores, ious, index


#: the columns of :func:`box_errors` (absolute values; no '|' so that they fit Markdown tables)
BOX_ERRORS = ('Δx/w', 'Δy/h', 'ln wₚ/w', 'ln hₚ/h')


def box_errors(gt_boxes: torch.Tensor, pred_boxes: torch.Tensor) -> torch.Tensor:
    """Errors of predicted boxes against their objects, row by row ((N, 4) x1, y1, x2, y2 each):
    the centre's offset in units of the object's width and height, and the log ratio of the
    widths and of the heights (:data:`BOX_ERRORS`), all absolute. These are the quantities
    YOLOv3 and SSD regress (offsets scaled by a size, log sizes), so a network that quantises
    positions to its map's stride shows large centre errors on small objects, one that is
    merely noisier shows the same ratio at every size."""
    if gt_boxes.shape != pred_boxes.shape or gt_boxes.ndim != 2 or gt_boxes.shape[1] != 4:
        raise ValueError(f'box_errors: needs two (N, 4) box tensors of one shape, got '
                         f'{tuple(gt_boxes.shape)} and {tuple(pred_boxes.shape)}')
    g, p = gt_boxes.double(), pred_boxes.double()
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    if bool((torch.stack([gw, gh, pw, ph]) <= 0).any()):
        raise ValueError('box_errors: every box needs a positive width and height')
    dx = ((p[:, 0] + p[:, 2]) - (g[:, 0] + g[:, 2])).abs() / 2 / gw
    dy = ((p[:, 1] + p[:, 3]) - (g[:, 1] + g[:, 3])).abs() / 2 / gh
    return torch.stack([dx, dy, (pw / gw).log().abs(), (ph / gh).log().abs()], 1).float()


def binned_mean(values: Sequence[float], quantity: Sequence[float],
                edges: Sequence[float]) -> List[Dict]:
    """Mean of ``quantity`` per bin [edges[i], edges[i+1]) of ``values`` (the last bin includes
    its upper edge): rows ``{'lo', 'hi', 'n', 'mean'}`` (``mean`` None for an empty bin). With
    0/1 flags of found objects as ``quantity`` the mean is the bin's recall."""
    values, quantity = np.asarray(values, np.float64), np.asarray(quantity, np.float64)
    if values.shape != quantity.shape:
        raise ValueError(f'binned_mean: {values.shape[0]} values but {quantity.shape[0]} '
                         'quantities')
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f'binned_mean: edges must be increasing, at least two, got '
                         f'{list(edges)}')
    rows = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        sel = (values >= lo) & ((values <= hi) if last else (values < hi))
        n = int(sel.sum())
        rows.append(dict(lo=float(lo), hi=float(hi), n=n,
                         mean=float(quantity[sel].mean()) if n else None))
    return rows


def quantile_edges(values: Sequence[float], bins: int) -> List[float]:
    """``bins`` bins of (about) equal counts: the 0, 1/bins, ..., 1 quantiles of ``values``,
    rounded to one decimal, duplicates removed (one distinct value: one bin ±0.5 around it)."""
    if bins < 1:
        raise ValueError(f'quantile_edges: bins must be >= 1, got {bins}')
    values = np.asarray(values, np.float64)
    if values.size == 0:
        raise ValueError('quantile_edges: no values')
    q = np.quantile(values, np.linspace(0, 1, bins + 1))
    edges = sorted(set(np.round(q, 1).tolist()))
    if len(edges) == 1:
        return [edges[0] - 0.5, edges[0] + 0.5]
    edges[0] = min(edges[0], float(np.min(values)))
    edges[-1] = max(edges[-1], float(np.max(values)))
    return edges
