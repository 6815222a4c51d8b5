"""The event simulator on inputs whose events are known in closed form."""
import numpy as np
import pytest

from mmdet_hoyer.datasets.events.simulator import EventSimulator, SensorConfig


def ideal(**kw):
    return SensorConfig(**dict(dict(contrast_threshold=0.2, threshold_sigma=0.0, refractory_us=0,
                                    noise_rate_hz=0.0, log_eps=0.0), **kw))


def test_a_log_intensity_ramp_gives_floor_dL_over_C_events_at_the_crossing_times():
    sim = EventSimulator(1, 1, ideal(), seed=0)
    # log I rises linearly by 1.01 between t=0 and t=1000 µs: floor(1.01 / 0.2) = 5 crossings
    # of C = 0.2, at t = 1000 k 0.2 / 1.01
    i0 = 0.1
    assert len(sim.add_frame(np.array([[i0]]), 0)) == 0
    ev = sim.add_frame(np.array([[i0 * np.exp(1.01)]]), 1000)
    assert len(ev) == 5 and (ev['p'] == 1).all()
    np.testing.assert_allclose(ev['t'], [198, 396, 594, 792, 990], atol=1)
    # down to +0.51: the reference sits at +1.0, so OFF crossings of +0.8 and +0.6 only
    ev = sim.add_frame(np.array([[i0 * np.exp(0.51)]]), 2000)
    assert len(ev) == 2 and (ev['p'] == 0).all()
    np.testing.assert_allclose(ev['t'], [1420, 1820], atol=1)


def test_sub_threshold_changes_accumulate_across_frames():
    # 0.64 in steps of 0.16, each below C = 0.2, crosses it three times in all
    sim = EventSimulator(1, 1, ideal(), seed=0)
    counts = [len(sim.add_frame(np.array([[0.1 * np.exp(0.16 * k)]]), 1000 * k))
              for k in range(5)]
    assert counts == [0, 0, 1, 1, 1]


def test_refractory_period_drops_events_too_close_to_the_last_one():
    sim = EventSimulator(1, 1, ideal(refractory_us=300), seed=0)
    sim.add_frame(np.array([[0.1]]), 0)
    ev = sim.add_frame(np.array([[0.1 * np.exp(1.01)]]), 1000)  # crossings every 198 µs
    np.testing.assert_allclose(ev['t'], [198, 594, 990], atol=1)


def test_noise_rate_and_threshold_mismatch():
    sim = EventSimulator(100, 100, ideal(noise_rate_hz=10.0, threshold_sigma=0.05), seed=1)
    frame = np.full((100, 100), 0.5)
    sim.add_frame(frame, 0)
    ev = sim.add_frame(frame, 1_000_000)  # a static scene: only noise, 10 Hz x 10^4 px x 1 s
    assert 98_500 < len(ev) < 101_500 and 0.48 < ev["p"].mean() < 0.52
    assert 0.04 < sim.c_on.std() < 0.06 and sim.c_on.mean() == pytest.approx(0.2, abs=0.005)
    assert np.all(np.diff(ev['t']) >= 0)
