"""One Euro filtering of angles: smooths jitter, follows real moves, restarts after gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.core.smoothing import OneEuroConfig, OneEuroFilter, SignalSmoother

FPS = 30.0


def run(values, times, config: OneEuroConfig | None = None) -> list[float]:
    f = OneEuroFilter(config)
    return [f.update(float(v), float(t)) for v, t in zip(values, times, strict=True)]


def test_smooths_jitter_of_a_still_body():
    rng = np.random.default_rng(7)
    times = np.arange(90) / FPS
    noisy = 100.0 + rng.normal(0.0, 3.0, times.size)
    smooth = np.array(run(noisy, times))
    settled = slice(15, None)
    assert smooth[settled].std() < 0.6 * noisy[settled].std()
    assert smooth[settled].mean() == pytest.approx(100.0, abs=1.0)


def test_follows_a_step_quickly():
    times = np.arange(60) / FPS
    step = np.where(times < 1.0, 0.0, 90.0)
    smooth = run(step, times)
    after = [v for v, t in zip(smooth, times, strict=True) if t >= 1.0]
    assert 0.0 < after[0] < 90.0  # blended, not jumped
    assert after[3] == pytest.approx(90.0, abs=2.0)  # within a tenth of a second
    assert smooth[: int(FPS)] == [0.0] * int(FPS)


def test_first_sample_passes_through():
    assert run([42.0], [5.0]) == [42.0]


def test_restarts_after_a_gap():
    config = OneEuroConfig(max_gap_s=0.5)
    f = OneEuroFilter(config)
    for i in range(30):
        f.update(10.0, i / FPS)
    # Within the gap the new value is blended; after it, it passes as is.
    assert f.update(80.0, 29 / FPS + 0.4) < 80.0
    f.reset()
    for i in range(30):
        f.update(10.0, i / FPS)
    assert f.update(80.0, 29 / FPS + 0.6) == 80.0


def test_nan_passes_through_and_restarts():
    f = OneEuroFilter()
    for i in range(10):
        f.update(10.0, i / FPS)
    assert math.isnan(f.update(math.nan, 10 / FPS))
    assert f.value is None
    assert f.update(80.0, 11 / FPS) == 80.0


def test_repeated_timestamp_keeps_the_estimate():
    f = OneEuroFilter()
    f.update(10.0, 0.0)
    f.update(20.0, 1 / FPS)
    current = f.value
    assert f.update(500.0, 1 / FPS) == current
    assert f.update(500.0, 0.0) == current


def test_signal_smoother_keeps_one_filter_per_signal():
    smoother = SignalSmoother()
    smoother.update({"hip": 10.0, "knee": 100.0}, 0.0)
    out = smoother.update({"hip": 50.0, "knee": 100.0}, 1 / FPS)
    assert 10.0 < out["hip"] < 50.0
    assert out["knee"] == pytest.approx(100.0)
    smoother.reset()
    assert smoother.update({"hip": 50.0}, 2 / FPS) == {"hip": 50.0}


@pytest.mark.parametrize(
    "kwargs",
    [{"min_cutoff_hz": 0.0}, {"d_cutoff_hz": -1.0}, {"max_gap_s": 0.0}, {"beta": -0.1}],
)
def test_config_refuses_impossible_values(kwargs):
    with pytest.raises(ValueError):
        OneEuroConfig(**kwargs)
