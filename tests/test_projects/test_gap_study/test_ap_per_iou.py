import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from projects.gap_study.ap_per_iou import ap_per_iou, gap_shares, precision_ap

#: two classes, one object each; class 2's detection is 16.6 px high on a 20 px box: IoU 0.83
GT_BOXES = {1: [10., 10., 20., 20.], 2: [40., 40., 20., 20.]}
DETS = [dict(image_id=1, category_id=1, bbox=[10., 10., 20., 20.], score=0.9),
        dict(image_id=1, category_id=2, bbox=[40., 40., 20., 16.6], score=0.8)]


def gt_dict():
    return dict(images=[dict(id=1, width=100, height=100, file_name='a.png')],
                categories=[dict(id=1, name='one'), dict(id=2, name='two')],
                annotations=[dict(id=c, image_id=1, category_id=c, bbox=b, area=b[2] * b[3],
                                  iscrowd=0) for c, b in GT_BOXES.items()])


def coco_gt():
    gt = COCO()
    gt.dataset = gt_dict()
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt


def test_precision_ap_is_the_mean_of_valid_entries_per_threshold():
    rng = np.random.default_rng(0)
    precision = rng.random((3, 101, 4, 4, 3))
    precision[0, :, 1] = -1  # category 1 without ground truth at threshold 0
    precision[2] = -1  # nothing valid at threshold 2
    ap = precision_ap(precision)
    p = precision[:, :, :, 0, -1].astype(np.float64)
    assert ap[0] == pytest.approx(p[0][:, [0, 2, 3]].mean(), abs=1e-12)
    assert ap[1] == pytest.approx(p[1].mean(), abs=1e-12)
    assert ap[2] == -1
    assert precision_ap(precision, area=2, max_dets=0)[1] == pytest.approx(
        precision[1, :, :, 2, 0].mean())
    with pytest.raises(ValueError, match=r'\(T, R, K, A, M\)'):
        precision_ap(precision[..., 0])


def test_ap_per_iou_splits_a_box_at_iou_083_between_the_thresholds():
    thresholds, ap = ap_per_iou(coco_gt(), DETS)
    assert np.allclose(thresholds, np.linspace(0.5, 0.95, 10))
    # class 1 is boxed exactly (AP 1 everywhere), class 2 only up to IoU 0.83
    assert np.allclose(ap[thresholds < 0.83], 1.0)
    assert np.allclose(ap[thresholds > 0.83], 0.5)
    # the mean is COCOeval's own mAP (summarize's stats[0])
    gt = coco_gt()
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(DETS), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ap.mean() == pytest.approx(ev.stats[0])


def test_ap_per_iou_reads_a_results_file_and_checks_it(tmp_path):
    path = tmp_path / 'r.bbox.json'
    path.write_text(json.dumps(DETS))
    assert np.allclose(ap_per_iou(coco_gt(), str(path))[1], ap_per_iou(coco_gt(), DETS)[1])
    assert np.all(ap_per_iou(coco_gt(), [])[1] == 0)  # no detection: AP 0, not an error
    with pytest.raises(ValueError, match='outfile_prefix'):
        ap_per_iou(coco_gt(), str(tmp_path / 'missing.json'))
    with pytest.raises(ValueError, match="keys \\('image_id', 'category_id', 'bbox', 'score'\\)"):
        ap_per_iou(coco_gt(), [dict(image_id=1, bbox=[0, 0, 1, 1], score=1.0)])
    with pytest.raises(ValueError, match=r'image ids \[7\] are not in the ground truth'):
        ap_per_iou(coco_gt(), [dict(DETS[0], image_id=7)])
    with pytest.raises(ValueError, match=r'expected \[x, y, w, h\]'):
        ap_per_iou(coco_gt(), [dict(DETS[0], bbox=[0, 0, 1])])


def test_gap_shares_sum_to_one_and_need_a_gap():
    low, high = np.array([0.9, 0.5, 0.1]), np.array([1.0, 0.8, 0.1])
    shares = gap_shares(low, high)
    assert shares.sum() == pytest.approx(1.0)
    assert shares == pytest.approx([0.25, 0.75, 0.0])
    with pytest.raises(ValueError, match='not ahead at mAP'):
        gap_shares(high, low)
    with pytest.raises(ValueError, match='same length'):
        gap_shares(low, high[:2])
