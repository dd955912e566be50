"""Validation shared by every loader: headers, dtype coercion, unique keys, order, UTC times.

Every failure is a :class:`~digestkit.exceptions.SourceError` naming the file (or table), the row
or line (``locate`` turns a row position into the words for it), the field and the rule broken,
never the value (it may be sensitive, or huge).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, NoReturn, assert_never

import numpy as np
import pandas as pd

from digestkit.clock import as_utc
from digestkit.exceptions import SourceError
from digestkit.sources.schema import KEYS, SCHEMAS, Column

__all__ = [
    "DAY_FORMAT",
    "Locate",
    "TimeLike",
    "check_header",
    "check_order",
    "check_unique",
    "coerce",
    "utc_timestamp",
]

TimeLike = str | datetime | date | pd.Timestamp

#: Turns a row position (0 = first data row) into where it is, e.g. ``line 3``.
Locate = Callable[[int], str]

#: Calendar days as sources store them (and SQL compares them as text).
DAY_FORMAT = "%Y-%m-%d"


def utc_timestamp(value: TimeLike, name: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp (naive means UTC); SourceError naming ``name`` if it is not."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise SourceError("is not an ISO-8601 date or time", field=name) from exc
    return pd.Timestamp(as_utc(ts))


def check_header(names: Sequence[str], table: str, *, where: str, row: str | None) -> None:
    """Raise unless ``names`` are exactly the columns of ``table`` (in any order)."""
    known = [c.name for c in SCHEMAS[table]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SourceError(
            f"unknown column; {table} has {', '.join(known)}", path=where, row=row, field=unknown[0]
        )
    missing = [n for n in known if n not in names]
    if missing:
        raise SourceError(
            f"missing column(s) {', '.join(missing)}", path=where, row=row, field=missing[0]
        )


def coerce(frame: pd.DataFrame, table: str, *, where: str, locate: Locate) -> pd.DataFrame:
    """Convert the columns of ``frame`` that ``table`` declares to their dtypes, or raise."""
    frame = frame.reset_index(drop=True)
    out: dict[str, pd.Series[Any]] = {}
    for col in SCHEMAS[table]:
        if col.name in frame.columns:
            out[col.name] = _coerce_column(frame[col.name], col, where=where, locate=locate)
    return pd.DataFrame(out, index=frame.index)


def check_unique(frame: pd.DataFrame, table: str, *, where: str, locate: Locate) -> None:
    """Raise on the first row repeating an earlier row's key, naming both."""
    keys = [k for k in KEYS[table] if k in frame.columns]
    dup = frame.duplicated(keys, keep="first")
    if dup.any():
        pos = _first(dup)
        same = (frame[keys] == frame[keys].iloc[pos]).all(axis=1)
        values = ", ".join(str(frame[k].iloc[pos]) for k in keys)
        raise SourceError(
            f"duplicate {' + '.join(keys)} ({values}); first seen at {locate(_first(same))}",
            path=where,
            row=locate(pos),
            field=keys[0],
        )


def check_order(frame: pd.DataFrame, first: str, last: str, *, where: str, locate: Locate) -> None:
    """Raise on the first row whose ``last`` is set and before its ``first``."""
    bad = frame[last].notna() & (frame[last] < frame[first])
    if bad.any():
        pos = _first(bad)
        raise SourceError(f"is before {first}", path=where, row=locate(pos), field=last)


def _first(mask: pd.Series[Any]) -> int:
    return int(np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))[0])


def _coerce_column(
    raw: pd.Series[Any], col: Column, *, where: str, locate: Locate
) -> pd.Series[Any]:
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        raw = raw.mask(raw.astype("string") == "")  # an empty cell is null
    null = raw.isna()

    def fail(mask: pd.Series[Any], problem: str) -> NoReturn:
        # The rule, not the value: a value may be sensitive, or huge.
        raise SourceError(problem, path=where, row=locate(_first(mask)), field=col.name)

    if not col.nullable and null.any():
        pos = _first(null)
        raise SourceError(
            "is empty but every row needs a value", path=where, row=locate(pos), field=col.name
        )
    match col.dtype:
        case "string":
            return raw.astype("string")
        case "int" | "float":
            num = pd.to_numeric(raw, errors="coerce").astype("Float64")
            bad = ~null & num.isna()
            if col.dtype == "int":
                bad |= ~null & (num % 1 != 0)
            if bad.fillna(True).any():
                kind = "an integer" if col.dtype == "int" else "a number"
                fail(bad.fillna(True), f"is not {kind}")
            return num.astype("Int64" if col.dtype == "int" else "Float64")
        case "datetime":
            parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
            bad = ~null & parsed.isna()
            if bad.any():
                fail(bad, "is not an ISO-8601 timestamp such as 2024-05-01T09:30:00Z")
            return parsed
        case "date":
            parsed = pd.to_datetime(raw.astype("string"), format=DAY_FORMAT, errors="coerce")
            bad = ~null & parsed.isna()
            if bad.any():
                fail(bad, "is not a date such as 2024-05-01")
            return parsed
        case "category":
            text = raw.astype("string")
            bad = ~null & ~text.isin(col.values)
            if bad.any():
                fail(bad, f"is not one of {', '.join(col.values)}")
            return text.astype(pd.CategoricalDtype(list(col.values)))
        case _:
            assert_never(col.dtype)
