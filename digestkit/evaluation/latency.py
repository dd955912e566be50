"""Latency from the runner's own records: pipeline latency apart from backlog age.

Pipeline latency runs from when the event could be handled (it had occurred and the runner had
finished the line before) to the digest being posted; backlog age is how long the event waited
before that.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.evaluation.tables import timestamp
from digestkit.fileio import read_jsonl

__all__ = ["event_times", "latency_note", "latency_summary", "runner_free", "seconds_between"]


def event_times(sources: src_mod.DataSources) -> dict[str, pd.Timestamp | None]:
    """When each event of the feed occurred, by event id (unreadable feed lines skipped)."""
    feed = src_mod.load_feed(sources, strict=False)
    return {
        str(e): timestamp(t) for e, t in zip(feed["event_id"], feed["occurred_at"], strict=True)
    }


def runner_free(layout: ws.Layout | None) -> dict[str, pd.Timestamp]:
    """Per digest built by the runner: when it finished the line before (``state/events.jsonl``).

    The runner handles feed lines one at a time, so it could start on an event no earlier than
    that. The first line a workspace ever handled has no record before it: it is left out.
    """
    if layout is None:
        return {}
    free: dict[str, pd.Timestamp] = {}
    previous: pd.Timestamp | None = None
    for record in read_jsonl(layout.events):
        digest_id = record.get("digest_id")
        built = record.get("status") == "processed" and record.get("event_type") in (
            None,
            "runbook.published",
        )
        if built and digest_id and previous is not None:
            free.setdefault(str(digest_id), previous)
        previous = timestamp(record.get("at")) or previous
    return free


def seconds_between(later: pd.Timestamp | None, earlier: pd.Timestamp | None) -> float | None:
    """Seconds from ``earlier`` to ``later``; None when either is unknown."""
    return (later - earlier).total_seconds() if later is not None and earlier is not None else None


def _quantile(series: pd.Series, q: float) -> float | None:
    return float(series.quantile(q)) if len(series) else None


def latency_summary(digests: pd.DataFrame) -> dict[str, Any]:
    """The ``latency`` summary: p50, p95 and max of pipeline, backlog and end-to-end seconds."""
    pipeline = digests["pipeline_seconds"].dropna().astype(float)
    backlog = digests["backlog_seconds"].dropna().astype(float)
    end_to_end = digests["latency_seconds"].dropna().astype(float)
    out: dict[str, Any] = {}
    for key, series in (("pipeline", pipeline), ("backlog", backlog), ("end_to_end", end_to_end)):
        out[f"{key}_digests"] = len(series)
        out[f"{key}_p50_seconds"] = _quantile(series, 0.5)
        out[f"{key}_p95_seconds"] = _quantile(series, 0.95)
        out[f"{key}_max_seconds"] = float(series.max()) if len(series) else None
    return {**out, "note": latency_note(backlog)}


def latency_note(backlog: pd.Series) -> str | None:
    """A caveat when some events waited over a day: a historical feed or a backlog, not the
    pipeline's doing."""
    if len(backlog) and backlog.max() > 86400:
        return (
            "some events waited more than a day before the runner could handle them (a "
            "historical feed or a backlog): that wait is backlog age, not pipeline latency"
        )
    return None
