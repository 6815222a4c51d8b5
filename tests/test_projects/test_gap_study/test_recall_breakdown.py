import numpy as np
import pytest
import torch

from projects.gap_study.recall_breakdown import (best_match, binned_mean, box_errors,
                                                   edge_distance, luminance, object_contrast,
                                                   quantile_edges)


def test_luminance_uses_bt601_weights_and_checks_the_shape():
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = (255, 0, 0)
    image[1, 2] = (10, 20, 30)
    lum = luminance(image)
    assert lum.shape == (2, 3) and lum.dtype == np.float32
    assert lum[0, 0] == pytest.approx(0.299 * 255)
    assert lum[1, 2] == pytest.approx(0.299 * 10 + 0.587 * 20 + 0.114 * 30)
    with pytest.raises(ValueError, match=r'expected an \(H, W, 3\) RGB image'):
        luminance(np.zeros((4, 4)))


def test_object_contrast_reads_the_ring_and_the_most_distinct_pixels():
    lum = np.full((20, 20), 100.0, np.float32)
    lum[8:12, 8:12] = 100.0  # the box, 4x4 = 16 pixels
    lum[9:11, 9:11] = 30.0  # 4 ink pixels, 70 darker than the background
    lum[5:15, 5:7] = 120.0  # part of the ring is brighter: background = mean of the ring
    contrast, background = object_contrast(lum, (8, 8, 12, 12), ring=3, frac=0.25)
    outer = lum[5:15, 5:15].sum() - lum[8:12, 8:12].sum()
    expected_bg = outer / (100 - 16)
    assert background == pytest.approx(expected_bg)
    assert contrast == pytest.approx(abs(30 - expected_bg))  # 25 % of 16 = the 4 ink pixels
    # a box filling the image has no ring: the box's median is the background
    contrast, background = object_contrast(np.array([[0., 10.], [10., 10.]]), (0, 0, 2, 2),
                                           frac=0.25)
    assert (contrast, background) == (10.0, 10.0)
    with pytest.raises(ValueError, match='no pixel inside'):
        object_contrast(lum, (30, 30, 40, 40))
    with pytest.raises(ValueError, match=r'frac must be in \(0, 1\]'):
        object_contrast(lum, (8, 8, 12, 12), frac=0)


def test_edge_distance_is_the_gap_to_the_nearest_image_edge():
    assert edge_distance((10, 20, 30, 35), 100, 40) == 5.0  # bottom: 40 - 35
    assert edge_distance((3, 20, 30, 25), 100, 40) == 3.0  # left
    assert edge_distance((10, 10, 96, 20), 100, 40) == 4.0  # right
    assert edge_distance((0, 10, 20, 20), 100, 40) == 0.0  # touching
    assert edge_distance((-2, 10, 20, 20), 100, 40) == 0.0  # past the edge: clamped
    with pytest.raises(ValueError, match='image size must be positive'):
        edge_distance((0, 0, 1, 1), 0, 40)


def test_best_match_takes_the_best_score_of_its_class_above_the_iou():
    gt = torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.], [50., 50., 60., 60.]])
    gt_labels = torch.tensor([1, 2, 3])
    pred = torch.tensor([[0., 0., 10., 10.],    # exact, label 1, score 0.4
                         [0., 0., 10., 11.],    # IoU 10/11, label 1, score 0.9
                         [0., 0., 10., 10.],    # exact but label 2: not for object 0
                         [20., 20., 30., 40.],  # IoU 0.5 with object 1, label 2
                         [50., 50., 55., 60.]])  # IoU 0.5 with object 2 but label 1
    scores = torch.tensor([0.4, 0.9, 0.95, 0.7, 0.8])
    labels = torch.tensor([1, 1, 2, 2, 1])
    best, ious, index = best_match(gt, gt_labels, pred, scores, labels, iou_thr=0.5)
    assert best.tolist() == pytest.approx([0.9, 0.7, 0.0])
    assert ious.tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert index.tolist() == [0, 3, -1]  # the best-IoU prediction of the class, not the best score
    best, _, _ = best_match(gt, gt_labels, pred, scores, labels, iou_thr=0.95)
    assert best.tolist() == pytest.approx([0.4, 0.0, 0.0])
    best, ious, index = best_match(gt, gt_labels, pred[:0], scores[:0], labels[:0])
    assert best.tolist() == ious.tolist() == [0.0, 0.0, 0.0] and index.tolist() == [-1] * 3


def test_box_errors_are_centre_offsets_per_size_and_log_size_ratios():
    gt = torch.tensor([[10., 20., 30., 60.], [0., 0., 8., 8.]])
    pred = torch.tensor([[12., 16., 32., 56.],  # shifted by (+2, -4): 2/20, 4/40; same size
                         [0., 0., 16., 4.]])  # centre (+4, -2) -> 0.5, 0.25; w x2, h /2
    err = box_errors(gt, pred)
    assert err.dtype == torch.float32 and err.shape == (2, 4)
    assert err[0].tolist() == pytest.approx([0.1, 0.1, 0.0, 0.0])
    assert err[1].tolist() == pytest.approx([0.5, 0.25, np.log(2), np.log(2)])
    assert box_errors(gt[:0], pred[:0]).shape == (0, 4)
    with pytest.raises(ValueError, match=r'two \(N, 4\) box tensors of one shape'):
        box_errors(gt, pred[:1])
    with pytest.raises(ValueError, match='positive width and height'):
        box_errors(gt, torch.tensor([[0., 0., 0., 5.], [0., 0., 1., 1.]]))


def test_binned_mean_counts_and_averages_per_bin():
    values = [1.0, 2.0, 2.5, 4.0, 5.0]
    found = [1, 0, 1, 1, 0]
    rows = binned_mean(values, found, [1, 2, 4, 5])
    assert [r['n'] for r in rows] == [1, 2, 2]  # the last bin includes 5
    assert [r['mean'] for r in rows] == pytest.approx([1.0, 0.5, 0.5])
    assert binned_mean(values, found, [10, 20])[0] == dict(lo=10.0, hi=20.0, n=0, mean=None)
    with pytest.raises(ValueError, match='edges must be increasing'):
        binned_mean(values, found, [1, 1, 2])
    with pytest.raises(ValueError, match='5 values but 2 quantities'):
        binned_mean(values, [1, 0], [0, 6])


def test_quantile_edges_cover_the_values_in_equal_count_bins():
    values = np.arange(100, dtype=float)
    edges = quantile_edges(values, 4)
    assert edges[0] == 0.0 and edges[-1] == 99.0 and len(edges) == 5
    counts = [r['n'] for r in binned_mean(values, np.ones(100), edges)]
    assert sum(counts) == 100 and max(counts) - min(counts) <= 1
    assert quantile_edges([3.0] * 10, 4) == [2.5, 3.5]  # one distinct value: one bin around it
    with pytest.raises(ValueError, match='bins must be >= 1'):
        quantile_edges(values, 0)
