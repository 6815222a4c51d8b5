"""Event representations: a window of events as a dense tensor a convolution reads.

Pure numpy functions over decoded events (fields ``t``, ``x``, ``y``, ``p``), each returning
``(C, H, W)`` float32 of *event counts*: every event adds exactly 1 to the tensor's sum, so the
sum equals the window's event count (what the tests check). Scaling to the network's range is
the data preprocessor's job (a config's ``std``), not the representation's.

* :func:`polarity_histogram` — 2 channels, OFF and ON counts per pixel (tonic's ``ToFrame``
  with one bin; RVT's stacked histogram with one bin).
* :func:`time_binned_histogram` — 2·B channels: the window cut into B equal time bins, OFF and
  ON counts in each (RVT's ``StackedHistogram``; tonic's ``ToFrame(n_time_bins=B)``).
* :func:`voxel_grid` — 2·B channels, each event shared between its two nearest bins by linear
  interpolation in time (the event volume of Zhu et al. 2019 / tonic's ``ToVoxelGrid``, with
  the polarities in separate channels so that counts, not signed sums, are kept).

Channels are polarity-major (``[OFF bin 0..B-1, ON bin 0..B-1]``), as RVT stacks them.
These are written here rather than taken from tonic: tonic's ``to_frame_numpy`` accumulates
with ``np.add.at`` (one Python-level scatter per window, several times slower than
``np.bincount`` here) and its ``to_voxel_grid_numpy`` sums signed polarities into one channel
per bin and writes the polarity array in place; the tests compare these functions with tonic's
formulas on the cases they share.
"""
from typing import Optional, Tuple

import numpy as np


def _window(events: np.ndarray, width: int, height: int, num_bins: int,
            t_start: Optional[int], t_end: Optional[int]) -> Optional[Tuple[int, int]]:
    """Check the arguments; the window ``[t0, t1)`` (default: the events' span), or ``None``
    when there are no events."""
    if num_bins < 1:
        raise ValueError(f'num_bins={num_bins}: expected an integer >= 1')
    if not len(events):
        return None
    if int(events['x'].max()) >= width or int(events['y'].max()) >= height:
        raise ValueError(f'events reach x={int(events["x"].max())}, y={int(events["y"].max())}, '
                         f'outside the {width}x{height} sensor')
    return (int(events['t'][0]) if t_start is None else t_start,
            int(events['t'][-1]) + 1 if t_end is None else t_end)


def _bin_positions(t: np.ndarray, t_start: int, t_end: int, num_bins: int) -> np.ndarray:
    """Each event's position in bin units, in ``[0, num_bins)``."""
    if t_end <= t_start:
        raise ValueError(f'empty window [{t_start}, {t_end}) µs')
    pos = (t.astype(np.float64) - t_start) * (num_bins / (t_end - t_start))
    return np.clip(pos, 0, np.nextafter(num_bins, 0))


def time_binned_histogram(events: np.ndarray, width: int, height: int, num_bins: int = 1,
                          t_start: Optional[int] = None,
                          t_end: Optional[int] = None) -> np.ndarray:
    """``(2·num_bins, H, W)`` counts: channel ``p·num_bins + b`` counts the events of polarity
    ``p`` whose time falls in bin ``b`` of ``[t_start, t_end)`` (default: the events' span)."""
    window = _window(events, width, height, num_bins, t_start, t_end)
    if window is None:
        return np.zeros((2 * num_bins, height, width), np.float32)
    t0, t1 = window
    hw = height * width
    b = _bin_positions(events['t'], t0, t1, num_bins).astype(np.int64)
    channel = events['p'].astype(np.int64) * num_bins + b
    flat = channel * hw + events['y'].astype(np.int64) * width + events['x']
    counts = np.bincount(flat, minlength=2 * num_bins * hw)
    return counts.reshape(2 * num_bins, height, width).astype(np.float32)


def polarity_histogram(events: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(2, H, W)`` counts of OFF (channel 0) and ON (channel 1) events per pixel."""
    return time_binned_histogram(events, width, height, num_bins=1)


def voxel_grid(events: np.ndarray, width: int, height: int, num_bins: int,
               t_start: Optional[int] = None, t_end: Optional[int] = None) -> np.ndarray:
    """``(2·num_bins, H, W)``: each event adds ``1 - d`` to its bin and ``d`` to the next, at
    fractional distance ``d`` between the two bin centres (linear interpolation in time; events
    in the first and last half bins go wholly to the end bins), separately per polarity."""
    window = _window(events, width, height, num_bins, t_start, t_end)
    if window is None:
        return np.zeros((2 * num_bins, height, width), np.float32)
    t0, t1 = window
    hw = height * width
    centre = _bin_positions(events['t'], t0, t1, num_bins) - 0.5  # 0 at the first bin's centre
    centre = np.clip(centre, 0, num_bins - 1)
    left = np.floor(centre).astype(np.int64)
    frac = centre - left
    right = np.minimum(left + 1, num_bins - 1)
    pixel = events['y'].astype(np.int64) * width + events['x']
    base = events['p'].astype(np.int64) * num_bins
    grid = np.bincount((base + left) * hw + pixel, weights=1 - frac, minlength=2 * num_bins * hw)
    grid += np.bincount((base + right) * hw + pixel, weights=frac, minlength=2 * num_bins * hw)
    return grid.reshape(2 * num_bins, height, width).astype(np.float32)
