"""Event representations: counts preserved, bins and interpolation against a float64 loop."""
import numpy as np
import pytest

from mmdet_hoyer.datasets.events.dat_file import EVENT_DTYPE
from mmdet_hoyer.datasets.events.representations import (polarity_histogram,
                                                          time_binned_histogram, voxel_grid)


def events(n=2000, w=40, h=30, t0=1000, t1=51000, seed=0):
    rng = np.random.RandomState(seed)
    ev = np.zeros(n, EVENT_DTYPE)
    ev['t'] = np.sort(rng.randint(t0, t1, n))
    ev['x'], ev['y'], ev['p'] = rng.randint(0, w, n), rng.randint(0, h, n), rng.randint(0, 2, n)
    return ev


def reference_histogram(ev, w, h, bins, t0, t1):
    out = np.zeros((2 * bins, h, w), np.float64)
    for e in ev:
        b = min(int((e['t'] - t0) * bins // (t1 - t0)), bins - 1)
        out[e['p'] * bins + b, e['y'], e['x']] += 1
    return out


def reference_voxel(ev, w, h, bins, t0, t1):
    out = np.zeros((2 * bins, h, w), np.float64)
    for e in ev:
        c = min(max((e['t'] - t0) * bins / (t1 - t0) - 0.5, 0.0), bins - 1)
        left = int(np.floor(c))
        frac = c - left
        out[e['p'] * bins + left, e['y'], e['x']] += 1 - frac
        out[e['p'] * bins + min(left + 1, bins - 1), e['y'], e['x']] += frac
    return out


@pytest.mark.parametrize('bins', [1, 3, 5])
def test_histograms_match_the_reference_and_keep_every_event(bins):
    ev = events()
    got = time_binned_histogram(ev, 40, 30, bins, 1000, 51000)
    np.testing.assert_array_equal(got, reference_histogram(ev, 40, 30, bins, 1000, 51000))
    assert got.sum() == len(ev) and got.dtype == np.float32
    vox = voxel_grid(ev, 40, 30, bins, 1000, 51000)
    np.testing.assert_allclose(vox, reference_voxel(ev, 40, 30, bins, 1000, 51000), atol=1e-5)
    assert vox.sum() == pytest.approx(len(ev), rel=1e-6)


def test_polarity_histogram_channels_are_off_then_on():
    ev = np.zeros(3, EVENT_DTYPE)
    ev['t'], ev['x'], ev['y'], ev['p'] = [0, 1, 2], [1, 1, 2], [0, 0, 1], [0, 1, 1]
    got = polarity_histogram(ev, 4, 2)
    assert got.shape == (2, 2, 4)
    assert got[0, 0, 1] == 1 and got[1, 0, 1] == 1 and got[1, 1, 2] == 1 and got.sum() == 3
    assert polarity_histogram(ev[:0], 4, 2).sum() == 0


def test_voxel_grid_interpolates_between_bin_centres():
    ev = np.zeros(1, EVENT_DTYPE)
    ev['t'], ev['p'] = 30, 1  # window [0, 40), 2 bins: centres at 10 and 30
    assert voxel_grid(ev, 1, 1, 2, 0, 40)[2:, 0, 0].tolist() == [0.0, 1.0]
    ev['t'] = 20  # half way between the centres
    assert voxel_grid(ev, 1, 1, 2, 0, 40)[2:, 0, 0].tolist() == [0.5, 0.5]


def test_bad_arguments_are_clear_errors():
    ev = events()
    with pytest.raises(ValueError, match='outside the 10x30 sensor'):
        time_binned_histogram(ev, 10, 30)
    with pytest.raises(ValueError, match='num_bins=0'):
        voxel_grid(ev, 40, 30, 0)
    with pytest.raises(ValueError, match='empty window'):
        time_binned_histogram(ev, 40, 30, 2, 100, 100)
