"""PropheseeCocoMetric: MMDetection's CocoMetric, in memory, with the protocol on detections."""
import pytest
import torch

from mmdet_hoyer.evaluation import PropheseeCocoMetric


def sample(img_id, gt, preds):
    """A data sample as the evaluator passes it: gt boxes [x1, y1, x2, y2, label]; preds with a
    score."""
    return dict(img_id=img_id, ori_shape=(240, 304),
                instances=[dict(bbox=b[:4], bbox_label=b[4], ignore_flag=0) for b in gt],
                pred_instances=dict(
                    bboxes=torch.tensor([p[:4] for p in preds], dtype=torch.float32).reshape(-1, 4),
                    labels=torch.tensor([p[4] for p in preds], dtype=torch.long),
                    scores=torch.tensor([p[5] for p in preds], dtype=torch.float32)))


def evaluate(samples, tmp_path, **kw):
    metric = PropheseeCocoMetric(camera='gen1', outfile_prefix=str(tmp_path / 'r'), **kw)
    metric.dataset_meta = dict(classes=('car', 'pedestrian'))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


GT = [[10, 10, 60, 50, 0], [100, 100, 120, 150, 1]]


def test_perfect_detections_score_one(tmp_path):
    samples = [sample(i, GT, [b + [0.9] for b in GT]) for i in range(3)]
    res = evaluate(samples, tmp_path)
    assert res['bbox_mAP'] == pytest.approx(1.0) and res['bbox_mAP_50'] == pytest.approx(1.0)


def test_detections_below_the_size_rule_are_not_scored(tmp_path):
    # a confident false positive 8 px wide (< Gen1's 10 px sides) on every sample: filtered by
    # the protocol, it costs nothing; a 12 px one is scored and costs precision
    small = [200, 20, 208, 60, 0, 0.99]
    samples = [sample(i, GT, [b + [0.9] for b in GT] + [small]) for i in range(3)]
    assert evaluate(samples, tmp_path)['bbox_mAP'] == pytest.approx(1.0)
    wider = [200, 20, 212, 60, 0, 0.99]
    samples = [sample(i, GT, [b + [0.9] for b in GT] + [wider]) for i in range(3)]
    assert evaluate(samples, tmp_path)['bbox_mAP'] < 0.9


def test_configuration_errors_are_clear():
    with pytest.raises(ValueError, match='ann_file'):
        PropheseeCocoMetric(ann_file='x.json')
    with pytest.raises(ValueError, match="camera='gen3'"):
        PropheseeCocoMetric(camera='gen3')
    metric = PropheseeCocoMetric()
    s = sample(0, GT, [])
    del s['instances']
    with pytest.raises(KeyError, match='meta_keys'):
        metric.process({}, [s])
