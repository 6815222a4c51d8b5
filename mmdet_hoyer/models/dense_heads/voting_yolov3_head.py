"""MMDetection's YOLOv3 head with optional box voting at test time."""
from mmdet.models.dense_heads import YOLOV3Head
from mmdet.registry import MODELS
from .box_voting_mixin import BoxVotingMixin


@MODELS.register_module()
class VotingYOLOV3Head(BoxVotingMixin, YOLOV3Head):
    """``YOLOV3Head`` whose ``test_cfg`` may hold ``box_voting=dict(iou_thr=T)``
    (:class:`BoxVotingMixin`). Same parameters, training and, without ``box_voting``,
    predictions as ``YOLOV3Head``; checkpoints load either way."""
