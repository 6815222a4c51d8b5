"""MMDetection's SSDHead with its predict path working in mmdet 3.3.0, and box voting."""
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS
from .box_voting_mixin import BoxVotingMixin


@MODELS.register_module()
class PatchedSSDHead(BoxVotingMixin, SSDHead):
    """``SSDHead`` whose ``predict`` works under mmdet 3.3.0.

    Upstream bug (MMDetection issues #11305 and #11780): ``BaseDenseHead._predict_by_feat_single``
    reads ``self.loss_cls.custom_cls_channels``, but ``SSDHead`` computes its classification
    loss inline and never builds ``loss_cls``, so every SSD ``predict`` raises
    ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'``. SSD uses softmax scores
    and no custom class channels, which is what ``loss_cls = None`` makes that check read.
    Training is unchanged. Remove the patch when the upstream fix is released. ``test_cfg`` may
    also hold ``box_voting=dict(iou_thr=T)`` (:class:`BoxVotingMixin`).
    """

    loss_cls = None
