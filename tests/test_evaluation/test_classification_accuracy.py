import pytest

from mmdet.registry import METRICS


def test_top1_over_all_batches():
    metric = METRICS.build(dict(type='ClassificationAccuracy'))
    metric.dataset_meta = {}
    metric.process(None, [dict(pred_label=1, gt_label=1), dict(pred_label=2, gt_label=0)])
    metric.process(None, [dict(pred_label=3, gt_label=3)])
    assert metric.evaluate(3) == {'accuracy/top1': pytest.approx(2 / 3)}


def test_wrong_prediction_type_is_named():
    metric = METRICS.build(dict(type='ClassificationAccuracy'))
    with pytest.raises(TypeError, match='pred_label'):
        metric.process(None, [3])
