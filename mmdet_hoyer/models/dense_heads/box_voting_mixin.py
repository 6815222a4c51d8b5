"""``test_cfg.box_voting`` for MMDetection's dense heads."""
from typing import Optional

from mmcv.ops import batched_nms
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet.structures.bbox import get_box_tensor
from ..layers.box_voting import box_voting, check_box_voting


class BoxVotingMixin:
    """Adds box voting (:func:`~mmdet_hoyer.models.layers.box_voting`) to a dense head's
    post-processing: with ``test_cfg.box_voting=dict(iou_thr=T)``, each box NMS keeps is
    replaced by the score-weighted mean of the candidates of its class that overlap it with
    IoU ≥ T. Scores, labels, the NMS (``test_cfg.nms``, any type mmcv's ``batched_nms`` runs)
    and ``max_per_img`` are MMDetection's; without ``box_voting`` (the default) the head is
    unchanged. Put it before the MMDetection head in the bases."""

    def _bbox_post_process(self,
                           results: InstanceData,
                           cfg: ConfigDict,
                           rescale: bool = False,
                           with_nms: bool = True,
                           img_meta: Optional[dict] = None) -> InstanceData:
        iou_thr = check_box_voting(type(self).__name__, cfg.get('box_voting'))
        if iou_thr is None or not with_nms:  # MMDetection's own (aug test: no NMS, no vote)
            return super()._bbox_post_process(results, cfg, rescale, with_nms, img_meta)
        # rescaling, score factors and the size filter as MMDetection does them, then its NMS
        results = super()._bbox_post_process(results, cfg, rescale, False, img_meta)
        if results.bboxes.numel() == 0:
            return results
        bboxes = get_box_tensor(results.bboxes)
        dets, keep = batched_nms(bboxes, results.scores, results.labels, cfg.nms)
        keep, kept_scores = keep[:cfg.max_per_img], dets[:cfg.max_per_img, -1]
        voted = box_voting(bboxes, results.scores, results.labels, keep, iou_thr)
        out = results[keep]
        out.scores = kept_scores  # as MMDetection: NMS may reweight them (soft-NMS)
        out.bboxes = voted
        return out
