"""Plain values and tables of the evaluation: rates, UTC timestamps, JSON rows, Markdown tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

import pandas as pd

from digestkit.clock import as_utc, format_utc
from digestkit.evaluation.stats import Rate

__all__ = [
    "format_value",
    "frame_of",
    "interval",
    "markdown_table",
    "rate",
    "records",
    "timestamp",
]


def format_value(value: Any) -> str:
    """A metric as a table shows it: ``—`` for none, three decimals for a float."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else format_utc(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as plain JSON objects (no timestamps, numpy scalars or NaN)."""
    return [dict(zip(frame.columns, row, strict=True)) for row in _rows(frame)]


def _rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [[_plain(v) for v in row] for row in frame.itertuples(index=False)]


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table (``_None._`` when it is empty)."""
    if frame.empty:
        return "_None._"
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(format_value(v) for v in row) + " |" for row in _rows(frame)]
    return "\n".join([head, rule, *body])


def frame_of(rows: Sequence[Any], row_type: type) -> pd.DataFrame:
    """Dataclass ``rows`` as a frame with one column per field of ``row_type`` (even if empty)."""
    return pd.DataFrame([asdict(r) for r in rows], columns=[f.name for f in fields(row_type)])


def rate(num: float, den: float) -> float | None:
    """``num / den``, or None when there is nothing to divide by."""
    return float(num) / den if den else None


def interval(k: int, n: int) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of ``k`` in ``n`` (:class:`Rate`), ``(None, None)`` without one."""
    return Rate(k, n).interval or (None, None)


def timestamp(value: Any) -> pd.Timestamp | None:
    """``value`` (text, datetime or pandas time) as a UTC timestamp; None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(as_utc(pd.Timestamp(value)))
