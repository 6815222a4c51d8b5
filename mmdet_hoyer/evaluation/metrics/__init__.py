from .prophesee_coco_metric import PropheseeCocoMetric

__all__ = ['PropheseeCocoMetric']
