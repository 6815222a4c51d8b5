"""Average precision at each IoU threshold of COCO's mAP, and where a gap between two detectors
lies along them.

COCO's mAP is the mean of ten APs, at IoU thresholds 0.50, 0.55, ..., 0.95. mAP@0.5 and
mAP@0.75 show two of them; the other eight decide most of the mean when two detectors find the
same objects but box them differently precisely. :func:`ap_per_iou` evaluates a COCO results
list (what MMDetection's ``CocoMetric`` writes with ``outfile_prefix``) with pycocotools'
``COCOeval`` and returns the ten APs (area 'all', the largest ``maxDets``), whose mean is
``coco/bbox_mAP``; :func:`precision_ap` is the pure reduction of COCOeval's precision array and
:func:`gap_shares` the share of a mAP difference that each threshold makes.
"""
import contextlib
import io
import json
from typing import List, Sequence, Tuple, Union

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

#: the keys of one COCO detection result
RESULT_KEYS = ('image_id', 'category_id', 'bbox', 'score')


def precision_ap(precision: np.ndarray, area: int = 0, max_dets: int = -1) -> np.ndarray:
    """AP per IoU threshold from COCOeval's ``eval['precision']`` array, shape (T, R, K, A, M):
    the mean over recall points R and categories K of the entries > −1 (−1 marks a category
    without ground truth), as ``COCOeval.summarize`` computes mAP; −1 where no entry is valid.
    ``area`` and ``max_dets`` index A and M (default: area 'all', the largest maxDets)."""
    precision = np.asarray(precision, dtype=np.float64)
    if precision.ndim != 5:
        raise ValueError(f'precision_ap: expected COCOeval\'s (T, R, K, A, M) precision array, '
                         f'got shape {precision.shape}')
    p = precision[:, :, :, area, max_dets].reshape(precision.shape[0], -1)
    valid = p > -1
    sums = np.where(valid, p, 0.).sum(axis=1)
    counts = valid.sum(axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), -1.)


def load_results(results: Union[str, Sequence[dict]], source: str = 'results') -> List[dict]:
    """A COCO detection results list, from a ``.bbox.json`` path or as given, checked."""
    if isinstance(results, str):
        try:
            with open(results) as f:
                results = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f'{source}: cannot read a COCO results json from {results!r} '
                             f'({e}); write one with tools/test.py CONFIG CHECKPOINT '
                             '--cfg-options test_evaluator.outfile_prefix=PREFIX '
                             '(PREFIX.bbox.json)') from None
    if not isinstance(results, (list, tuple)):
        raise ValueError(f'{source}: expected a list of COCO detections, got '
                         f'{type(results).__name__}')
    for i, r in enumerate(results):
        if not isinstance(r, dict) or any(k not in r for k in RESULT_KEYS):
            raise ValueError(f'{source}: detection {i} must be a dict with keys {RESULT_KEYS}, '
                             f'got {r!r}'[:300])
        if len(r['bbox']) != 4:
            raise ValueError(f'{source}: detection {i} has bbox {r["bbox"]!r}, expected '
                             '[x, y, w, h]')
    return list(results)


def ap_per_iou(gt: COCO, results: Union[str, Sequence[dict]],
               source: str = 'results') -> Tuple[np.ndarray, np.ndarray]:
    """``(thresholds, ap)``: COCOeval's IoU thresholds (0.50:0.05:0.95) and the bbox AP at
    each (area 'all', 100 detections per image), for the detections ``results`` (a
    ``.bbox.json`` path or a list) against the ground truth ``gt``. ``ap.mean()`` is COCO's
    mAP. A detector without any detection has AP 0 at every threshold."""
    dets = load_results(results, source)
    params_thr = COCOeval(iouType='bbox').params.iouThrs
    if not dets:
        return params_thr.copy(), np.zeros(len(params_thr))
    unknown = {r['image_id'] for r in dets} - set(gt.getImgIds())
    if unknown:
        raise ValueError(f'{source}: image ids {sorted(unknown)[:5]} are not in the ground '
                         'truth (a results file of another test set?)')
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
    return ev.params.iouThrs.copy(), precision_ap(ev.eval['precision'])


def gap_shares(ap_low: Sequence[float], ap_high: Sequence[float]) -> np.ndarray:
    """Share of the mAP difference ``mean(ap_high) − mean(ap_low)`` made at each threshold,
    ``(ap_high_t − ap_low_t) / Σ_t (ap_high_t − ap_low_t)`` (sums to 1; a negative share is
    a threshold where the lower detector is ahead). Raises when there is no positive gap."""
    low, high = np.asarray(ap_low, np.float64), np.asarray(ap_high, np.float64)
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError(f'gap_shares: expected two APs per threshold of the same length, got '
                         f'shapes {low.shape} and {high.shape}')
    diff = high - low
    if not diff.sum() > 0:
        raise ValueError(f'gap_shares: the second detector is not ahead at mAP (difference '
                         f'{diff.mean():+.4f}); nothing to share out')
    return diff / diff.sum()
