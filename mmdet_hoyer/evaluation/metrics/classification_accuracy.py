"""Top-1 accuracy for :class:`BackboneClassifier` (backbone pretraining)."""
from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric

from mmdet.registry import METRICS


@METRICS.register_module()
class ClassificationAccuracy(BaseMetric):
    """Top-1 accuracy over the whole evaluation set, as ``<prefix>/top1``.

    Consumes the ``{'pred_label', 'gt_label'}`` dicts that ``BackboneClassifier`` predicts;
    results are gathered across ranks by :class:`~mmengine.evaluator.BaseMetric`.
    """

    default_prefix = 'accuracy'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if not isinstance(s, dict) or 'pred_label' not in s or 'gt_label' not in s:
                raise TypeError('ClassificationAccuracy expects predictions as dicts with '
                                f"'pred_label' and 'gt_label', got {type(s).__name__}")
            self.results.append(int(s['pred_label']) == int(s['gt_label']))

    def compute_metrics(self, results: List[bool]) -> Dict[str, float]:
        if not results:
            raise ValueError('ClassificationAccuracy: no predictions were collected')
        return dict(top1=sum(results) / len(results))
