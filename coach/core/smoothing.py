"""One Euro filtering of noisy per-frame signals (Casiez, Roussel, Vogel 2012)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class OneEuroConfig:
    """Filter settings.

    Attributes:
        min_cutoff_hz: Cutoff at rest; lower removes more jitter when still.
        beta: How fast the cutoff rises with speed; higher lags less in motion.
        d_cutoff_hz: Cutoff for the speed estimate itself.
        max_gap_s: A gap longer than this between samples restarts the filter,
            so a value from before the person left the frame is not blended in.
    """

    min_cutoff_hz: float = 1.0
    beta: float = 0.05
    d_cutoff_hz: float = 1.0
    max_gap_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("min_cutoff_hz", "d_cutoff_hz", "max_gap_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.beta < 0:
            raise ValueError(f"beta must be zero or more, got {self.beta}")


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Adaptive low-pass filter for one scalar signal."""

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self._config = config or OneEuroConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the past; the next sample passes through unchanged."""
        self._x: float | None = None
        self._dx = 0.0
        self._t: float | None = None

    @property
    def value(self) -> float | None:
        """The last filtered value, or None before the first sample."""
        return self._x

    def update(self, x: float, t_s: float) -> float:
        """Filter one sample taken at time ``t_s``; NaN passes through and resets."""
        cfg = self._config
        if not math.isfinite(x):
            self.reset()
            return math.nan
        if self._x is None or self._t is None or not (0 < t_s - self._t <= cfg.max_gap_s):
            if self._t is not None and t_s <= self._t and self._x is not None:
                return self._x  # same or older timestamp: keep the current estimate
            self._x, self._dx, self._t = x, 0.0, t_s
            return x
        dt = t_s - self._t
        dx = (x - self._x) / dt
        self._dx += _alpha(cfg.d_cutoff_hz, dt) * (dx - self._dx)
        cutoff = cfg.min_cutoff_hz + cfg.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t_s
        return self._x


class SignalSmoother:
    """A One Euro filter per named signal (angles, heights), created on demand."""

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self._config = config or OneEuroConfig()
        self._filters: dict[str, OneEuroFilter] = {}

    def reset(self) -> None:
        """Restart every filter."""
        for f in self._filters.values():
            f.reset()

    def update(self, values: Mapping[str, float], t_s: float) -> dict[str, float]:
        """Filter every value in ``values`` at time ``t_s``."""
        out: dict[str, float] = {}
        for key, value in values.items():
            f = self._filters.get(key)
            if f is None:
                f = self._filters[key] = OneEuroFilter(self._config)
            out[key] = f.update(value, t_s)
        return out
