"""Rates as a quality lead reads them: the share, its n, and a 95% Wilson interval.

A rate whose n is under :data:`MIN_N` is shown as ``n too small (n = 3)``, never as a bare
number: with three claims a rate of 0.000 says nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MIN_N", "Z95", "Rate", "wilson"]

MIN_N = 10
"""Below this many observations a rate is shown as too small to read."""
Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` trials; None when ``n`` is 0.

    >>> [round(x, 3) for x in wilson(0, 10)]
    [0.0, 0.278]
    """
    if n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n``: the share, its 95% Wilson interval, and whether n is large enough."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n)

    @property
    def sufficient(self) -> bool:
        return self.n >= MIN_N

    def text(self, digits: int = 2) -> str:
        """``0.83 (95% CI 0.70–0.91; 33 of 40)``, ``n too small (n = 3)`` or ``no data yet``."""
        if self.n == 0:
            return "no data yet (n = 0)"
        if not self.sufficient:
            return f"n too small (n = {self.n})"
        lo, hi = self.interval or (0.0, 0.0)
        ci = f"95% CI {lo:.{digits}f}–{hi:.{digits}f}"
        return f"{self.value:.{digits}f} ({ci}; {self.k} of {self.n})"
