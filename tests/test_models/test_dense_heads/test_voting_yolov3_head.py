"""VotingYOLOV3Head / PatchedSSDHead: MMDetection's predictions, or box voting after its NMS."""
import pytest
import torch
from mmengine.config import ConfigDict

from mmdet.models.dense_heads import YOLOV3Head
from mmdet.registry import MODELS
from mmdet_hoyer.models.layers import box_voting

TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, conf_thr=0.005,
                nms=dict(type='nms', iou_threshold=0.45), max_per_img=20)
HEAD = dict(type='VotingYOLOV3Head', num_classes=3, in_channels=[16, 8, 4],
            out_channels=[32, 16, 8], test_cfg=TEST_CFG)
META = dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0), pad_shape=(64, 64))


def feats(seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(1, c, s, s, generator=g) for c, s in zip([16, 8, 4], (2, 4, 8)))


def build(cls_type='VotingYOLOV3Head', **test_cfg):
    torch.manual_seed(0)
    head = MODELS.build(dict(HEAD, type=cls_type, test_cfg=ConfigDict(dict(TEST_CFG, **test_cfg))))
    head.eval()
    for p in head.parameters():  # confident, overlapping predictions: many candidates per object
        torch.nn.init.normal_(p, std=0.3)
    return head


def predict(head, cfg=None):
    with torch.no_grad():
        return head.predict_by_feat(*head(feats()), batch_img_metas=[META], cfg=cfg,
                                    rescale=True)[0]


def test_without_voting_it_is_mmdetections_head():
    voting, plain = build(), build('YOLOV3Head')
    assert isinstance(voting, YOLOV3Head)
    plain.load_state_dict(voting.state_dict())  # same parameters, same names
    a, b = predict(voting), predict(plain)
    assert len(a) > 1
    for key in ('bboxes', 'scores', 'labels'):
        assert torch.equal(a.get(key), b.get(key))


def check_vote(head, x, cfg):
    """The voted predictions are NMS's scores and labels with box_voting's boxes of the
    candidates NMS saw (the same head without NMS); returns how far the boxes moved."""
    run = lambda c, **kw: head.predict_by_feat(*head(x), batch_img_metas=[META], cfg=c,  # noqa
                                               rescale=True, **kw)[0]
    with torch.no_grad():
        plain = run(ConfigDict(cfg))
        cand = run(ConfigDict(dict(cfg, max_per_img=10000)), with_nms=False)
        voted = run(ConfigDict(dict(cfg, box_voting=dict(iou_thr=0.5))))
    assert len(plain) > 1
    assert torch.equal(voted.scores, plain.scores) and torch.equal(voted.labels, plain.labels)
    keep = torch.stack([((cand.bboxes == b).all(1) & (cand.scores == s)).nonzero()[0, 0]
                        for b, s in zip(plain.bboxes, plain.scores)])
    expected = box_voting(cand.bboxes, cand.scores, cand.labels, keep, 0.5)
    torch.testing.assert_close(voted.bboxes, expected)
    return (voted.bboxes - plain.bboxes).abs().max()


def test_voting_replaces_each_kept_box_by_the_vote_of_the_nms_candidates():
    assert check_vote(build(), feats(), TEST_CFG) > 0.1  # some box did move


def test_ssd_head_votes_too_and_bad_config_is_named():
    anchors = dict(type='SSDAnchorGenerator', scale_major=False, input_size=64,
                   strides=[8, 16, 32], ratios=([2], [2], [2]), min_sizes=[10, 20, 40],
                   max_sizes=[20, 40, 60])
    ssd = MODELS.build(dict(type='PatchedSSDHead', num_classes=3, in_channels=(8, 8, 8),
                            anchor_generator=anchors,
                            test_cfg=ConfigDict(TEST_CFG)))
    ssd.eval()
    torch.manual_seed(0)
    x = (torch.rand(1, 8, 8, 8), torch.rand(1, 8, 4, 4), torch.rand(1, 8, 2, 2))
    assert check_vote(ssd, x, dict(TEST_CFG, score_thr=0.0)) > 0.1
    head = build(box_voting=dict(iou_thr=2))
    with pytest.raises(ValueError, match='VotingYOLOV3Head: test_cfg.box_voting.iou_thr'):
        predict(head)
