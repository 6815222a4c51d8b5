import numpy as np
import pytest
import torch
from torch import nn

from projects.gap_study.centre_probe import (FeatureMapRecorder, centre_box_targets,
                                               centre_cells, centre_features,
                                               default_probe_layers, linear_probe_accuracy,
                                               linear_probe_r2, probe_layers)


def test_centre_cells_and_features_pick_the_cell_of_each_centre():
    # 64 x 96 input, stride-16 map (4 x 6); centres (24, 8), (95, 63) (last cell), (40, 33)
    boxes = torch.tensor([[16., 0., 32., 16.], [90., 60., 100., 66.], [30., 30., 50., 36.]])
    rows, cols = centre_cells(boxes, (4, 6), (64, 96))
    assert rows.tolist() == [0, 3, 2] and cols.tolist() == [1, 5, 2]
    feat = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(2, 4, 6)
    out = centre_features(feat, boxes, (64, 96))
    assert out.shape == (3, 2)
    assert out[:, 0].tolist() == [feat[0, 0, 1], feat[0, 3, 5], feat[0, 2, 2]]
    assert out[:, 1].tolist() == [feat[1, 0, 1], feat[1, 3, 5], feat[1, 2, 2]]
    with pytest.raises(ValueError, match=r'boxes must be \(N, 4\)'):
        centre_cells(torch.zeros(3), (4, 6), (64, 96))
    with pytest.raises(ValueError, match=r'feat must be \(C, H, W\)'):
        centre_features(feat[None], boxes, (64, 96))


def test_window_features_are_the_cells_a_conv_at_the_centre_reads():
    # 2 x 4 x 6 map; centres in cells (0, 1) (top edge: its upper row is padding) and (3, 5)
    # (the corner: five of its nine cells are padding)
    boxes = torch.tensor([[16., 0., 32., 16.], [90., 60., 100., 66.]])
    feat = torch.arange(1, 2 * 4 * 6 + 1, dtype=torch.float32).reshape(2, 4, 6)
    out = centre_features(feat, boxes, (64, 96), window=3)
    assert out.shape == (2, 2 * 9)
    padded = torch.nn.functional.pad(feat, (1, 1, 1, 1))
    for n, (r, c) in enumerate([(0, 1), (3, 5)]):
        # the same window, unfolded as a 3x3 conv sees it: cell by cell, each cell's channels
        expected = padded[:, r:r + 3, c:c + 3].permute(1, 2, 0).reshape(-1)
        assert out[n].tolist() == expected.tolist()
    assert out[0, :3 * 2].eq(0).all() and out[1, -2:].eq(0).all()  # rows / columns past the edge
    assert out[:, 4 * 2:5 * 2].tolist() == centre_features(feat, boxes, (64, 96)).tolist()
    for bad in (0, 2):
        with pytest.raises(ValueError, match='window must be an odd integer'):
            centre_features(feat, boxes, (64, 96), window=bad)


def test_box_targets_are_in_the_frame_of_the_centre_cell():
    # 64 x 96 input, stride-16 map: centre (24, 8) is in cell (0, 1) at offset (0.5, 0.5);
    # (95, 63) in the last cell (3, 5) at (0.9375, 0.9375); sizes 16 x 16 and 10 x 6 px
    boxes = torch.tensor([[16., 0., 32., 16.], [90., 60., 100., 66.]])
    t = centre_box_targets(boxes, (4, 6), (64, 96))
    expected = torch.tensor([[0.5, 0.5, 0.0, 0.0],
                             [0.9375, 0.9375, np.log(10 / 16), np.log(6 / 16)]],
                            dtype=torch.float32)
    torch.testing.assert_close(t, expected)


def test_box_probe_r2_is_high_for_linear_targets_and_low_for_noise():
    rng = np.random.RandomState(torch.seed() % 2**31)
    x_tr, x_va = rng.randn(300, 8), rng.randn(100, 8)
    w = rng.randn(8, 2)
    assert linear_probe_r2(x_tr, x_tr @ w, x_va, x_va @ w) > 0.95
    assert linear_probe_r2(x_tr, rng.randn(300, 2), x_va, rng.randn(100, 2)) < 0.1
    with pytest.raises(ValueError, match='at least 2'):
        linear_probe_r2(x_tr[:1], w[:1], x_va, x_va @ w)


def test_linear_probe_separates_informative_features_only():
    rng = np.random.RandomState(torch.seed() % 2**31)
    y_tr, y_va = rng.randint(0, 4, 200), rng.randint(0, 4, 100)
    means = rng.randn(4, 8) * 3
    informative = (means[y_tr] + rng.randn(200, 8) * 0.5, means[y_va] + rng.randn(100, 8) * 0.5)
    assert linear_probe_accuracy(informative[0], y_tr, informative[1], y_va) > 0.95
    noise = rng.randn(200, 8), rng.randn(100, 8)
    assert linear_probe_accuracy(noise[0], y_tr, noise[1], y_va) < 0.5  # chance 0.25
    with pytest.raises(ValueError, match='fewer than 2 classes'):
        linear_probe_accuracy(noise[0], np.zeros(200), noise[1], y_va)


def test_recorder_names_tuple_outputs_and_layer_errors():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Conv2d(1, 2, 1)
            self.neck = nn.Identity()

        def forward(self, x):
            f = self.backbone(x)
            return self.neck((f, f[:, :1, ::2, ::2]))

    net = Net()
    layers = probe_layers(net, default_probe_layers(net))
    with FeatureMapRecorder(layers) as rec:
        net(torch.randn(1, 1, 4, 4))
    assert sorted(rec.maps) == ['backbone', 'neck[0]', 'neck[1]']
    assert rec.maps['neck[1]'].shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match=r"\['nek'\] are not modules"):
        probe_layers(net, ['nek'])
