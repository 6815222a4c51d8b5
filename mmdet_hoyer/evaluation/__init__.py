from .metrics import PropheseeCocoMetric  # noqa: F401  (registers the metric)
