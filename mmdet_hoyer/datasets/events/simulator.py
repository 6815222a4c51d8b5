"""An event-camera simulator: rendered intensity frames in, DVS events out.

The model of ESIM (Rebecq et al., CoRL 2018) with the sensor non-idealities v2e (Hu et al.,
CVPRW 2021) adds:

* each pixel compares its log intensity ``L = log(I + eps)`` with a stored reference and emits
  an ON (OFF) event each time ``L`` rises (falls) by its contrast threshold ``C``; the reference
  moves by ``C`` per event;
* between two rendered frames ``L`` is interpolated linearly in time per pixel, so the events
  of one frame interval get the times at which that line crosses each level (ESIM);
* threshold mismatch: ``C`` is drawn per pixel and polarity from ``N(C, sigma_C)`` once per
  sensor (v2e's ``sigma_thres``), clipped at ``0.01``;
* a refractory period: an event closer than ``refractory_us`` to the pixel's last *emitted*
  event is dropped (the reference still moves, as the crossing happened);
* noise: background-activity events at ``noise_rate_hz`` per pixel (Poisson, random polarity,
  v2e's shot noise).

Neither ESIM (no PyPI release) nor v2e (a video tool whose package pulls in a GUI and a CUDA
stack) installs and serves on these machines; this module is the model as those papers state
it, vectorised per frame interval with numpy.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from .dat_file import EVENT_DTYPE


@dataclass
class SensorConfig:
    """The simulated sensor's parameters (defaults: ESIM's / v2e's typical values)."""
    contrast_threshold: float = 0.2  # C, in log intensity
    threshold_sigma: float = 0.03  # per-pixel mismatch of C
    refractory_us: int = 500
    noise_rate_hz: float = 0.1  # background activity per pixel
    log_eps: float = 0.02  # L = log(I + eps), I in [0, 1]


class EventSimulator:
    """Feed frames in time order with :meth:`add_frame`; each call returns the events since the
    previous frame (the first frame only sets the references).

    Args:
        width, height: the sensor.
        config: :class:`SensorConfig`.
        seed: for the per-pixel thresholds and the noise.
    """

    def __init__(self, width: int, height: int, config: Optional[SensorConfig] = None,
                 seed: int = 0) -> None:
        self.width, self.height = width, height
        self.cfg = config or SensorConfig()
        self.rng = np.random.RandomState(seed)
        shape = (height, width)
        c, s = self.cfg.contrast_threshold, self.cfg.threshold_sigma
        if c <= 0:
            raise ValueError(f'contrast_threshold={c}: expected > 0')
        self.c_on = np.clip(self.rng.normal(c, s, shape), 0.01, None) if s > 0 else np.full(shape, c)
        self.c_off = np.clip(self.rng.normal(c, s, shape), 0.01, None) if s > 0 else np.full(shape, c)
        self.ref: Optional[np.ndarray] = None
        self.last_log: Optional[np.ndarray] = None
        self.last_t: Optional[int] = None
        self.last_event = np.full(shape, -np.inf)

    def log_intensity(self, frame: np.ndarray) -> np.ndarray:
        """``log(I + eps)`` of a frame in [0, 1]."""
        return np.log(np.clip(frame, 0, 1).astype(np.float64) + self.cfg.log_eps)

    def add_frame(self, frame: np.ndarray, t_us: int) -> np.ndarray:
        """Events between the previous frame and this one (``(H, W)`` intensities in [0, 1] at
        time ``t_us``), in time order, as :data:`~.dat_file.EVENT_DTYPE`."""
        if frame.shape != (self.height, self.width):
            raise ValueError(f'frame of shape {frame.shape}: expected {(self.height, self.width)}')
        log = self.log_intensity(frame)
        if self.ref is None:
            self.ref, self.last_log, self.last_t = log.copy(), log, int(t_us)
            return np.empty(0, EVENT_DTYPE)
        t0, t1 = self.last_t, int(t_us)
        if t1 <= t0:
            raise ValueError(f'frame at {t1} µs is not after the previous one ({t0} µs)')
        parts = [self._crossings(self.last_log, log, t0, t1, on) for on in (True, False)]
        parts.append(self._noise(t0, t1))
        events = np.concatenate(parts)
        events = events[np.argsort(events['t'], kind='stable')]
        events = self._refractory(events)
        self.last_log, self.last_t = log, t1
        return events

    def _crossings(self, l0: np.ndarray, l1: np.ndarray, t0: int, t1: int,
                   on: bool) -> np.ndarray:
        """Events of one polarity: the times at which the line from ``l0`` (at ``t0``) to ``l1``
        (at ``t1``) crosses ``ref ± k·C``, ``k = 1..n``; moves the references."""
        c = self.c_on if on else self.c_off
        sign = 1.0 if on else -1.0
        n = np.floor(sign * (l1 - self.ref) / c).astype(np.int64)
        n = np.maximum(n, 0)
        ys, xs = np.nonzero(n)
        if not len(ys):
            return np.empty(0, EVENT_DTYPE)
        counts = n[ys, xs]
        starts = np.cumsum(counts) - counts  # k = 1..n within each pixel's run
        k = np.arange(int(counts.sum())) - np.repeat(starts, counts) + 1
        ys_r, xs_r = np.repeat(ys, counts), np.repeat(xs, counts)
        level = self.ref[ys_r, xs_r] + sign * k * c[ys_r, xs_r]
        a, b = l0[ys_r, xs_r], l1[ys_r, xs_r]
        frac = np.clip((level - a) / np.where(b != a, b - a, 1.0), 0.0, 1.0)
        events = np.empty(len(k), EVENT_DTYPE)
        events['t'] = np.round(t0 + frac * (t1 - t0)).astype(np.int64)
        events['x'], events['y'], events['p'] = xs_r, ys_r, 1 if on else 0
        self.ref[ys, xs] += sign * counts * c[ys, xs]
        return events

    def _noise(self, t0: int, t1: int) -> np.ndarray:
        rate = self.cfg.noise_rate_hz * self.width * self.height * (t1 - t0) * 1e-6
        m = self.rng.poisson(rate) if rate > 0 else 0
        events = np.empty(m, EVENT_DTYPE)
        events['t'] = self.rng.randint(t0, t1, m) if m else 0
        events['x'] = self.rng.randint(0, self.width, m)
        events['y'] = self.rng.randint(0, self.height, m)
        events['p'] = self.rng.randint(0, 2, m)
        return events

    def _refractory(self, events: np.ndarray) -> np.ndarray:
        """Drop each event within ``refractory_us`` of its pixel's last emitted event."""
        if not len(events) or self.cfg.refractory_us <= 0:
            return events
        keep = np.ones(len(events), bool)
        pixel = events['y'].astype(np.int64) * self.width + events['x']
        last = self.last_event.reshape(-1)
        # events of a pixel in time order; walk the k-th event of every pixel at once
        order = np.lexsort((events['t'], pixel))
        sorted_pixel = pixel[order]
        first = np.r_[True, sorted_pixel[1:] != sorted_pixel[:-1]]
        rank = np.arange(len(order)) - np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        for r in range(int(rank.max()) + 1):
            idx = order[rank == r]
            ok = events['t'][idx] - last[pixel[idx]] >= self.cfg.refractory_us
            keep[idx] = ok
            last[pixel[idx[ok]]] = events['t'][idx[ok]]
        return events[keep]


def simulate(frames: List[np.ndarray], times_us: List[int], config: Optional[SensorConfig] = None,
             seed: int = 0) -> np.ndarray:
    """All events of a sequence of frames (convenience wrapper of :class:`EventSimulator`)."""
    h, w = frames[0].shape
    sim = EventSimulator(w, h, config, seed)
    return np.concatenate([sim.add_frame(f, t) for f, t in zip(frames, times_us)])
