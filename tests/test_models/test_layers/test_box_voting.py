"""box_voting: the score-weighted mean of each kept box's same-class overlapping candidates."""
import pytest
import torch

from mmdet_hoyer.models.layers import box_voting, check_box_voting


def iou64(a, b):
    lt, rb = torch.maximum(a[:2], b[:2]), torch.minimum(a[2:], b[2:])
    inter = (rb - lt).clamp(min=0).prod()
    area = lambda x: (x[2:] - x[:2]).prod()  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def reference(bboxes, scores, labels, keep, thr):
    """float64 loop: Gidaris & Komodakis' vote, one kept box at a time."""
    b, s = bboxes.double(), scores.double()
    out = []
    for k in keep.tolist():
        num, den = torch.zeros(4, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
        for j in range(len(b)):
            if labels[j] == labels[k] and iou64(b[j], b[k]) >= thr:
                num, den = num + s[j] * b[j], den + s[j]
        out.append(num / den if den > 0 else b[k])
    return torch.stack(out)


def random_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 40
    wh = 8 + torch.rand(n, 2, generator=g) * 12
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g), torch.randint(
        0, 3, (n, ), generator=g)


@pytest.mark.parametrize('thr', [0.3, 0.5, 0.8])
def test_matches_the_float64_reference(thr):
    bboxes, scores, labels = random_boxes(60, seed=int(thr * 10))
    keep = torch.tensor([3, 0, 17, 42, 59])
    voted = box_voting(bboxes, scores, labels, keep, thr)
    assert voted.dtype == bboxes.dtype and voted.shape == (5, 4)
    torch.testing.assert_close(voted.double(), reference(bboxes, scores, labels, keep, thr),
                               rtol=1e-5, atol=1e-4)


def test_only_same_class_overlapping_candidates_vote():
    bboxes = torch.tensor([[10., 10., 30., 30.],   # kept, class 0, score 0.9
                           [12., 10., 32., 30.],   # class 0, IoU 0.82: votes
                           [10., 10., 30., 30.],   # class 1, same box: does not vote
                           [40., 40., 60., 60.]])  # class 0, no overlap: does not vote
    scores = torch.tensor([0.9, 0.3, 0.8, 0.7])
    labels = torch.tensor([0, 0, 1, 0])
    voted = box_voting(bboxes, scores, labels, torch.tensor([0, 3]), 0.5)
    expected = (0.9 * bboxes[0] + 0.3 * bboxes[1]) / 1.2
    torch.testing.assert_close(voted[0], expected)
    torch.testing.assert_close(voted[1], bboxes[3])  # alone: unchanged
    # above the pair's IoU the kept box votes alone
    torch.testing.assert_close(box_voting(bboxes, scores, labels, torch.tensor([0]), 0.9)[0],
                               bboxes[0])
    # zero weights leave the kept box as it was (no 0/0)
    zero = box_voting(bboxes, torch.zeros(4), labels, torch.tensor([0]), 0.5)
    assert torch.equal(zero[0], bboxes[0])
    assert box_voting(bboxes, scores, labels, torch.tensor([], dtype=torch.long), 0.5).shape \
        == (0, 4)


def test_bad_arguments_are_named():
    bboxes, scores, labels = random_boxes(4, seed=0)
    with pytest.raises(ValueError, match=r'iou_thr must be in \(0, 1\]'):
        box_voting(bboxes, scores, labels, torch.tensor([0]), 0.0)
    with pytest.raises(ValueError, match=r'bboxes must be \(N, 4\)'):
        box_voting(bboxes[:, :3], scores, labels, torch.tensor([0]), 0.5)
    with pytest.raises(ValueError, match=r'scores and labels must be \(4,\)'):
        box_voting(bboxes, scores[:3], labels, torch.tensor([0]), 0.5)
    assert check_box_voting('H', None) is None
    assert check_box_voting('H', dict(iou_thr=0.6)) == 0.6
    with pytest.raises(ValueError, match=r'H: test_cfg.box_voting must be None or '
                                         r'dict\(iou_thr=T\)'):
        check_box_voting('H', dict(thr=0.6))
    with pytest.raises(ValueError, match=r'H: test_cfg.box_voting.iou_thr must be a number'):
        check_box_voting('H', dict(iou_thr=1.5))
