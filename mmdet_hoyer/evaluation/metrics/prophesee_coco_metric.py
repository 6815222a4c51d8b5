"""COCO mAP on Prophesee's event-camera sets, under their evaluation protocol."""
from typing import Sequence

import torch

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS
from ...datasets.events.protocol import get_camera, size_mask


@METRICS.register_module()
class PropheseeCocoMetric(CocoMetric):
    """MMDetection's ``CocoMetric`` with the Gen1 / 1Mpx protocol applied to the detections.

    The ground truth comes from the dataset's samples (``PropheseeDetDataset`` in
    ``test_mode`` has already applied the protocol to it) and is converted in memory by
    ``CocoMetric`` itself (``ann_file=None``: the test pipeline's ``PackDetInputs`` must keep
    ``instances`` in ``meta_keys``). Detections get the same size filter as the ground truth
    (RVT ``evaluation.py``: "We also filter the prediction to follow the prophesee protocol of
    evaluation"), in sensor coordinates. AP, its IoU thresholds and areas are COCOeval's.

    Args:
        camera: ``'gen1'`` or ``'1mpx'`` (the size rule of :mod:`..datasets.events.protocol`).
        **kwargs: ``CocoMetric``'s (``metric`` defaults to ``'bbox'``).
    """

    def __init__(self, camera: str = 'gen1', **kwargs) -> None:
        if kwargs.get('ann_file') is not None:
            raise ValueError('PropheseeCocoMetric builds its ground truth from the dataset; '
                             f'ann_file={kwargs["ann_file"]!r} must be left out')
        kwargs.setdefault('metric', 'bbox')
        super().__init__(**kwargs)
        self.camera = get_camera(camera)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'instances' not in sample:
                raise KeyError('PropheseeCocoMetric reads the ground truth from each sample\'s '
                               '"instances": add it to the test pipeline\'s PackDetInputs '
                               'meta_keys')
            pred = sample['pred_instances']
            boxes = pred['bboxes']
            keep = size_mask((boxes[:, 2] - boxes[:, 0]).cpu().numpy(),
                             (boxes[:, 3] - boxes[:, 1]).cpu().numpy(), self.camera)
            keep = torch.as_tensor(keep, dtype=torch.bool, device=boxes.device)
            for key in ('bboxes', 'scores', 'labels'):
                pred[key] = pred[key][keep]
        super().process(data_batch, data_samples)
