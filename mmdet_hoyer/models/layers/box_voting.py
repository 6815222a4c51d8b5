"""Box voting: the boxes NMS keeps, refined by the candidates it suppressed.

Gidaris & Komodakis (ICCV 2015, "Object detection via a multi-region & semantic
segmentation-aware CNN model", Sec. 3.2): each box that survives NMS is replaced by the
score-weighted mean of the candidate boxes of its class that overlap it with IoU ≥ a
threshold, itself included. A detector predicts an object from several anchors and
neighbouring cells; when their box errors are partly independent the mean is closer to the
object than the best-scored box alone, and the noisier the regression the more it gains
(docs/research/accuracy.md).
"""
from typing import Optional

import torch
from torch import Tensor

from mmdet.structures.bbox import bbox_overlaps


def box_voting(bboxes: Tensor, scores: Tensor, labels: Tensor, keep: Tensor,
               iou_thr: float) -> Tensor:
    """``b'_k = Σ_j s_j b_j / Σ_j s_j`` over the candidates ``j`` with ``labels_j = labels_k``
    and ``IoU(b_j, b_k) ≥ iou_thr``, for each kept index ``k``.

    Args:
        bboxes: (N, 4) candidate boxes (x1, y1, x2, y2), the ones NMS ran on.
        scores: (N,) their scores (≥ 0), the weights.
        labels: (N,) their classes.
        keep: (K,) indices NMS kept, in its order.
        iou_thr: overlap with a kept box from which a candidate votes, in (0, 1].

    Returns:
        (K, 4) voted boxes, in the dtype of ``bboxes``; a kept box whose voters weigh 0 in
        total (scores all 0) stays as it was.
    """
    if not 0 < iou_thr <= 1:
        raise ValueError(f'box_voting: iou_thr must be in (0, 1], got {iou_thr!r}')
    if bboxes.ndim != 2 or bboxes.shape[1] != 4:
        raise ValueError(f'box_voting: bboxes must be (N, 4) x1, y1, x2, y2, got shape '
                         f'{tuple(bboxes.shape)}')
    n = bboxes.shape[0]
    if scores.shape != (n, ) or labels.shape != (n, ):
        raise ValueError(f'box_voting: scores and labels must be ({n},), got '
                         f'{tuple(scores.shape)} and {tuple(labels.shape)}')
    if keep.numel() == 0:
        return bboxes.new_zeros((0, 4))
    boxes = bboxes.float()
    kept = boxes[keep]
    voters = (bbox_overlaps(kept, boxes) >= iou_thr) & (labels[keep][:, None] == labels[None])
    weights = voters.float() * scores.float().clamp(min=0)[None]
    total = weights.sum(dim=1, keepdim=True)
    voted = torch.where(total > 0, weights @ boxes / total.clamp(min=torch.finfo(
        boxes.dtype).tiny), kept)
    return voted.to(bboxes.dtype)


def check_box_voting(owner: str, cfg: Optional[dict]) -> Optional[float]:
    """The ``iou_thr`` of a ``test_cfg.box_voting`` entry (``None``: no voting), checked."""
    if cfg is None:
        return None
    if not isinstance(cfg, dict) or set(cfg) != {'iou_thr'}:
        raise ValueError(f'{owner}: test_cfg.box_voting must be None or dict(iou_thr=T) with '
                         f'0 < T <= 1, got {cfg!r}')
    thr = cfg['iou_thr']
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not 0 < thr <= 1:
        raise ValueError(f'{owner}: test_cfg.box_voting.iou_thr must be a number in (0, 1], '
                         f'got {thr!r}')
    return float(thr)
