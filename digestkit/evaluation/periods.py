"""Evaluation periods: ``--period`` text as UTC bounds, and whether a time falls within them."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from digestkit.exceptions import UsageError

__all__ = ["Bounds", "in_period", "parse_period"]

_PERIOD = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_FREQ = {4: "Y", 7: "M", 10: "D"}  # by the length of YYYY, YYYY-MM, YYYY-MM-DD

Bounds = tuple[pd.Timestamp, pd.Timestamp]


def parse_period(period: str | None) -> Bounds | None:
    """``None``/``all``; ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; or ``START..END`` (inclusive).

    Anything else is a :class:`~digestkit.exceptions.UsageError`.
    """
    if period in (None, "", "all"):
        return None
    start, sep, end = period.partition("..")
    parts = [p for p in (start, end) if p]
    try:
        if not parts or not all(_PERIOD.match(p) for p in parts):
            raise ValueError(period)
        if not sep:
            p = pd.Period(period, freq=_FREQ[len(period)])
            return p.start_time.tz_localize("UTC"), p.end_time.tz_localize("UTC")
        lo = pd.Timestamp(start, tz="UTC") if start else pd.Timestamp.min.tz_localize("UTC")
        hi = (
            pd.Period(end, freq=_FREQ[len(end)]).end_time.tz_localize("UTC")
            if end
            else pd.Timestamp.max.tz_localize("UTC")
        )
        if lo > hi:
            raise UsageError(f"period '{period}' ends before it starts; write START..END")
        return lo, hi
    except ValueError as exc:
        raise UsageError(
            f"period '{period}' is not YYYY, YYYY-MM, YYYY-MM-DD, START..END or 'all'"
        ) from exc


def in_period(ts: Any, bounds: Bounds | None) -> bool:
    """Whether ``ts`` lies within ``bounds`` (always, for None; never, for a missing time)."""
    if bounds is None:
        return True
    if ts is None or pd.isna(ts):
        return False
    return bool(bounds[0] <= pd.Timestamp(ts) <= bounds[1])
